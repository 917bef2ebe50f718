// fuzz_host_pdu: the host side against a hostile controller. Byte 0 bit 0 picks the mode:
//
// 0, queue pair: a tcp_host_qpair (src/host) on one end of a socketpair, with up to four commands
//    outstanding, gets the rest of the input as everything the controller sends (CapsuleResp,
//    C2HData, R2T, C2HTermReq, garbage), cut into chunks, then end of file. Whatever the host
//    sends is read and dropped. Byte 0: bit 1 header digests, bit 2 data digests, bit 3 RLE
//    payload, bit 4 fix digests (fuzz_support.h), bit 5 a completion callback submits a new
//    command at once (slot reuse). Byte 1: bit 0 a 4 KiB read, bit 1 an 8 KiB write by R2T
//    (two H2CData of MAXH2CDATA 4 KiB), bit 2 a 2 KiB in-capsule write, bit 3 a Flush; they
//    take slots 3, 2, 1, 0 in that order, so their CIDs are 7, 6, 5, 4 (generation 1, queue
//    size 4). Byte 2: chunk-size seed.
//    Oracles: each command completes exactly once; its data buffer is freed in its callback,
//    so ASan reports any later use by the queue (a send from a completed command); at end of
//    file every command has completed and the queue object goes away once its channel is
//    quiet. A hang (a PDU queued twice links the writer's queue to itself) is a timeout.
//
// 1, readers: the rest as a log page or Identify data for the host's readers: the discovery
//    log (whole, header, entries, and read_discovery_log in chunks of byte 1 * 4 + 4 bytes,
//    from a reader that serves the page), the ANA log (parse_ana_log), and the Identify limits
//    (namespace_geometry_of, in_capsule_data_limit, max_transfer_from_mdts), the Changed
//    Namespace List (parse_changed_namespace_list) and a Reservation Report's data, with and
//    without EDS (parse_reservation_report).
//    Oracles: a parsed discovery log has NUMREC entries; an ANA snapshot has no more groups
//    than NGRPS; an accepted namespace has a block of 512 B to 64 KiB whose size times the
//    block count fits 64 bits; the in-capsule limit never exceeds the largest transfer; a
//    changed namespace list is ascending without zero; a report holds no more registrants
//    than REGCTL counts, nor than the data holds.
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <bit>
#include <memory>

#include <spdlog/spdlog.h>

#include "fuzz_support.h"
#include "host/ana_log_reader.h"
#include "host/discovery_client.h"
#include "host/tcp_host_qpair.h"
#include "host/identify_limits.h"
#include "host/io_command.h"
#include "host/namespace_change_reader.h"
#include "host/reservation_request.h"

namespace nvmfd::fuzz {
namespace {

reactor_pool& pool() {
  static reactor_pool p(1);
  return p;
}

constexpr uint16_t queue_size = 4;
constexpr size_t max_stream = 256 * 1024;

// One command: owns its data buffer until its completion, which frees it.
struct harness final : host_callback {
  unsigned submitted = 0, completed = 0;
  bool resubmit = false;
  host_queue* q = nullptr;
  void on_host_complete(host_request& req, const nvme_completion&) override {
    auto* buf = static_cast<std::byte*>(req.user);
    check(buf != reinterpret_cast<std::byte*>(1), "a command completed twice");
    delete[] buf;  // ASan: the queue must not read or write it any more
    req.user = reinterpret_cast<void*>(1);
    ++completed;
    if (resubmit) {
      resubmit = false;
      submit(make_flush(nsid_t{1}), 0, false);
    }
  }
  void submit(const nvme_sqe& cmd, uint32_t len, bool h2c) {
    host_request* r = q->alloc();
    if (!r) return;
    r->cmd = cmd;
    r->data = len ? new std::byte[len]() : nullptr;
    r->data_len = len;
    r->host_to_controller = h2c;
    r->cb = this;
    r->user = r->data;
    ++submitted;
    q->submit(*r);
  }
};

// Bytes sent on fd that its peer has not read yet (AF_UNIX: SIOCOUTQ).
int unread_by_peer(int fd) {
  int n = 0;
  return ::ioctl(fd, SIOCOUTQ, &n) == 0 ? n : 0;
}

// The controller's end: sends the stream in chunks, then end of file, reading (and dropping)
// what the host sends until it closes.
// The end of file waits until the host has read every byte: a kernel bug (seen on 6.18;
// liburing issue #1549) makes an io_uring multishot recv on an AF_UNIX socket lose an EOF
// that comes together with the last bytes: it posts the bytes and then never the EOF, and the
// host would wait for ever for a controller that is gone. Over TCP, which nvmfd serves, the
// EOF is not lost.
void play_controller(int fd, std::span<const std::byte> stream, chunker& chunks) {
  size_t sent = 0;
  bool eof = false, shut = false;
  std::vector<std::byte> sink(64 * 1024);
  while (!eof) {
    bool drained = true;
    if (sent == stream.size() && !shut) {
      drained = unread_by_peer(fd) == 0;
      if (drained) {
        ::shutdown(fd, SHUT_WR);
        shut = true;
      }
    }
    pollfd p{fd, static_cast<short>(POLLIN | (shut || sent == stream.size() ? 0 : POLLOUT)), 0};
    // Until the host has read the rest, look again soon (nothing signals that it has).
    int ready = ::poll(&p, 1, drained ? -1 : 0);
    if (ready == 0) sched_yield();
    if (ready <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(fd, sink.data(), sink.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) eof = true;
    }
    if (!shut && (p.revents & POLLOUT)) {
      size_t len = chunks.next(stream.size() - sent);
      ssize_t n = ::send(fd, stream.data() + sent, len, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR) sent = stream.size();  // the host closed
    }
  }
}

void queue_pair(fuzz_input& in, uint8_t flags) {
  uint8_t cmds = in.u8(), chunk_seed = in.u8();
  bool hdgst = flags & 2, ddgst = flags & 4;
  std::vector<std::byte> stream;
  if (flags & 8)
    stream = rle_expand(in.rest(), max_stream);
  else
    stream.assign(reinterpret_cast<const std::byte*>(in.rest().data()),
                  reinterpret_cast<const std::byte*>(in.rest().data()) + std::min(in.rest().size(), max_stream));
  if (flags & 16) fix_digests(stream, 0, hdgst, ddgst);

  int fds[2];
  check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0, "socketpair");
  tcp_host_qpair_params p;
  p.qid = qid_t{1};
  p.queue_size = queue_size;
  p.hdgst = hdgst;
  p.ddgst = ddgst;
  p.maxh2cdata = 4096;
  p.in_capsule_max = 4096;
  p.io_timeout_ms = 0;
  auto q = std::make_shared<tcp_host_qpair>(pool().at(0), fds[0], p);
  std::weak_ptr<host_queue> weak = q;
  harness h;
  h.q = q.get();
  h.resubmit = flags & 32;
  pool().run_on(0, [&] {
    q->start();
    if (cmds & 1) h.submit(make_rw(io_opcode::read, nsid_t{1}, 0, 8), 4096, false);
    if (cmds & 2) h.submit(make_rw(io_opcode::write, nsid_t{1}, 8, 16), 8192, true);
    if (cmds & 4) h.submit(make_rw(io_opcode::write, nsid_t{1}, 24, 4), 2048, true);
    if (cmds & 8) h.submit(make_flush(nsid_t{1}), 0, false);
  });
  chunker chunks(chunk_seed);
  play_controller(fds[1], stream, chunks);
  // The host saw end of file (or failed earlier) and closed its socket: fail() completed every
  // command; a command submitted from a callback completes from the loop.
  pool().run_on(0, [] {});
  pool().run_on(0, [&] {
    check(q->failed(), "the queue outlived the connection");
    check(h.completed == h.submitted, "a command never completed");
    q.reset();
  });
  for (int i = 0; i < 100000 && !weak.expired(); ++i) pool().run_on(0, [] {});
  check(weak.expired(), "the queue was never released");
  ::close(fds[1]);
}

void discovery(std::span<const std::byte> page, uint8_t chunk) {
  if (auto log = parse_discovery_log(page))
    check(log->entries.size() == log->numrec, "discovery log: entries != NUMREC");
  (void)parse_discovery_log_header(page);
  for (size_t off = 1024; off + 1024 <= page.size() && off <= 4 * 1024; off += 1024)
    (void)parse_discovery_entry(page.subspan(off, 1024));
  uint32_t max_chunk = (uint32_t{chunk} + 1) * 4 * 16;
  unsigned reads = 0;
  auto reader = [&](uint64_t offset, uint32_t len) -> result<std::vector<std::byte>> {
    check(len <= max_chunk, "a discovery log read larger than the chunk size");
    if (++reads > 4096) return error{errc::io_error, "too many reads"};
    std::vector<std::byte> out(len);
    if (offset < page.size()) {
      size_t n = std::min<size_t>(len, page.size() - offset);
      std::memcpy(out.data(), page.data() + offset, n);
    }
    return out;
  };
  if (auto log = read_discovery_log(reader, max_chunk))
    check(log->entries.size() == log->numrec, "read_discovery_log: entries != NUMREC");
}

void readers(fuzz_input& in) {
  uint8_t chunk = in.u8();
  auto page = std::as_bytes(in.rest());
  discovery(page, chunk);

  if (auto ana = parse_ana_log(page, static_cast<uint32_t>(page.size()))) {
    auto hdr = decode_wire<ana_log_header>(page);
    check(hdr && ana->groups.size() <= hdr->ngrps.get(), "ANA snapshot with more groups than NGRPS");
  }

  if (auto list = parse_changed_namespace_list(page); list && *list) {
    check((*list)->size() <= page.size() / 4, "more NSIDs than the page holds");
    for (size_t i = 0; i < (*list)->size(); ++i)
      check((**list)[i].value != 0 && (i == 0 || (**list)[i - 1] < (**list)[i]), "changed list not ascending");
  }
  for (bool eds : {false, true})
    if (auto rep = parse_reservation_report(page, eds)) {
      size_t entry = eds ? 64 : 24, header = eds ? 64 : 24;
      check(rep->registrants.size() <= rep->regctl, "more registrants than REGCTL");
      check(header + rep->registrants.size() * entry <= page.size(), "registrants past the data");
    }

  std::array<std::byte, identify_data_size> id{};
  std::memcpy(id.data(), page.data(), std::min(page.size(), id.size()));
  auto ns = load_wire<identify_namespace>(id.data());
  if (auto g = namespace_geometry_of(ns)) {
    check(g->block_size >= 512 && g->block_size <= 65536 && std::has_single_bit(g->block_size), "block size");
    check(g->num_blocks <= UINT64_MAX / g->block_size, "namespace size overflows");
  }
  auto ctrl = load_wire<identify_controller>(id.data());
  uint32_t max = max_transfer_from_mdts(ctrl.mdts, static_cast<uint8_t>(std::to_integer<unsigned>(id[0]) & 0xf));
  check(max >= 4096 && max <= (1u << 30), "largest transfer out of range");
  check(in_capsule_data_limit(ctrl.ioccsz.get(), max) <= max, "in-capsule limit above the largest transfer");
}

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* level = std::getenv("NVMFD_FUZZ_LOG");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::off);
  (void)nvmfd::fuzz::pool();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nvmfd::fuzz;
  fuzz_input in(data, size);
  uint8_t mode = in.u8();
  if (mode & 1)
    readers(in);
  else
    queue_pair(in, mode);
  return 0;
}
