// nvmf-tcp-floor: what the kernel alone charges a target core for 4 KiB reads over loopback
// TCP. Two processes play an ideal target and an ideal client, with nothing of NVMe in them:
// the client (pinned to one core) keeps --qd commands of 72 bytes (a command capsule) in flight
// and sends one for each reply it has received; the target (pinned to another core) polls its
// socket and answers every command that arrived with a reply shaped like a read's (a 24-byte
// C2HData header and the payload), one sendmsg for all of them, as a target flushes a batch of
// completions. Both poll (MSG_DONTWAIT), as SPDK does. The target's CPU time per reply is the
// floor under any NVMe/TCP target's CPU per read on that machine: receiving the commands,
// copying the replies into socket buffers, TCP, and (on loopback) the receive-side softirq
// work, which runs on the sending core.
//
// Prints one line and, with --json, {units, seconds, units_per_s, sender_cpu_s,
// sender_cpu_s_per_mio, sender_cores, payload, qd}. Only 127.0.0.1; both processes end before
// it returns.
#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

constexpr std::size_t header_bytes = 24;   // a C2HData PDU header without digests
constexpr std::size_t command_bytes = 72;  // a command capsule without in-capsule data
constexpr std::size_t max_batch = 256;     // replies per sendmsg at most

struct options {
  int send_cpu = 0;
  int recv_cpu = 1;
  std::size_t payload = 4096;
  std::size_t qd = 32;
  double seconds = 5;
  std::string json;
};

bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

bool send_bytes(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// The client: keeps qd commands in flight, one more for each whole reply received, until the
// target closes the connection.
[[noreturn]] void client(const sockaddr_in& addr, const options& o) {
  if (!pin(o.recv_cpu)) _exit(3);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
    _exit(4);
  std::vector<char> commands(command_bytes * max_batch, 0);
  std::vector<char> buf(1 << 20);
  const std::size_t unit = header_bytes + o.payload;
  std::size_t partial = 0;  // bytes of a reply received so far
  for (std::size_t left = o.qd; left > 0;) {
    std::size_t n = left < max_batch ? left : max_batch;
    if (!send_bytes(fd, commands.data(), n * command_bytes)) _exit(5);
    left -= n;
  }
  for (;;) {
    ssize_t r = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (r == 0) _exit(0);
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      _exit(errno == ECONNRESET ? 0 : 6);
    }
    partial += static_cast<std::size_t>(r);
    std::size_t replies = partial / unit;
    partial %= unit;
    while (replies > 0) {
      std::size_t n = replies < max_batch ? replies : max_batch;
      if (!send_bytes(fd, commands.data(), n * command_bytes)) _exit(0);  // the target has closed
      replies -= n;
    }
  }
}

// Writes every byte of the iovecs, advancing through them on short writes.
bool send_all(int fd, std::vector<iovec>& iov) {
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  while (msg.msg_iovlen > 0) {
    ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<std::size_t>(w);
    while (left > 0) {
      if (left >= msg.msg_iov->iov_len) {
        left -= msg.msg_iov->iov_len;
        ++msg.msg_iov;
        --msg.msg_iovlen;
      } else {
        msg.msg_iov->iov_base = static_cast<char*>(msg.msg_iov->iov_base) + left;
        msg.msg_iov->iov_len -= left;
        left = 0;
      }
    }
  }
  return true;
}

int run(const options& o) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 1) != 0 || getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "nvmf-tcp-floor: cannot listen on 127.0.0.1: %s\n", std::strerror(errno));
    return 1;
  }
  pid_t receiver = fork();
  if (receiver < 0) return 1;
  if (receiver == 0) client(addr, o);
  int fd = accept(listener, nullptr, nullptr);
  close(listener);
  int one = 1;
  if (fd < 0 || !pin(o.send_cpu) || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    std::fprintf(stderr, "nvmf-tcp-floor: set-up failed: %s\n", std::strerror(errno));
    kill(receiver, SIGKILL);
    waitpid(receiver, nullptr, 0);
    return 1;
  }
  // One payload for every reply, as a null namespace sends one region of zeroes.
  std::vector<char> header(header_bytes, 0);
  void* payload = mmap(nullptr, o.payload, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (payload == MAP_FAILED) return 1;
  std::memset(payload, 0, o.payload);
  std::vector<iovec> replies;
  for (std::size_t i = 0; i < max_batch; ++i) {
    replies.push_back({header.data(), header.size()});
    replies.push_back({payload, o.payload});
  }
  std::vector<char> in(1 << 16);

  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  double c0 = cpu_seconds();
  auto until = t0 + std::chrono::duration<double>(o.seconds);
  uint64_t units = 0;
  std::size_t partial = 0;  // bytes of a command received so far
  bool ok = true;
  std::vector<iovec> iov;
  iov.reserve(replies.size());
  while (ok && clock::now() < until) {
    ssize_t r = recv(fd, in.data(), in.size(), MSG_DONTWAIT);
    if (r <= 0) {
      ok = r < 0 && (errno == EAGAIN || errno == EINTR);
      continue;
    }
    partial += static_cast<std::size_t>(r);
    std::size_t commands = partial / command_bytes;
    partial %= command_bytes;
    while (ok && commands > 0) {
      std::size_t n = commands < max_batch ? commands : max_batch;
      iov.assign(replies.begin(), replies.begin() + static_cast<std::ptrdiff_t>(2 * n));
      ok = send_all(fd, iov);  // advances through its copy
      units += n;
      commands -= n;
    }
  }
  double c1 = cpu_seconds();
  double wall = std::chrono::duration<double>(clock::now() - t0).count();
  close(fd);
  int status = 0;
  waitpid(receiver, &status, 0);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "nvmf-tcp-floor: the transfer failed\n");
    return 1;
  }
  double cpu = c1 - c0;
  nlohmann::json j = {{"units", units},
                      {"seconds", wall},
                      {"units_per_s", static_cast<double>(units) / wall},
                      {"sender_cpu_s", cpu},
                      {"sender_cpu_s_per_mio", cpu / static_cast<double>(units) * 1e6},
                      {"sender_cores", cpu / wall},
                      {"payload", o.payload},
                      {"qd", o.qd}};
  std::printf("%zu-byte replies at QD %zu: %.0f replies/s, sender CPU %.3f s per 10^6 replies (%.2f cores)\n",
              o.payload, o.qd, static_cast<double>(units) / wall, cpu / static_cast<double>(units) * 1e6,
              cpu / wall);
  if (!o.json.empty()) std::ofstream(o.json) << j.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"nvmf-tcp-floor: the kernel's CPU cost per 4 KiB read for a target on loopback TCP"};
  app.add_option("--send-cpu", o.send_cpu, "core of the sender (the target's core)");
  app.add_option("--recv-cpu", o.recv_cpu, "core of the receiver (the client's core)");
  app.add_option("-o,--payload", o.payload, "payload bytes per unit")->check(CLI::Range(1, 1 << 20));
  app.add_option("-q,--qd", o.qd, "commands the client keeps in flight")->check(CLI::Range(1, 4096));
  app.add_option("-t,--time", o.seconds, "seconds to send")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--json", o.json, "write the result here as JSON");
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
