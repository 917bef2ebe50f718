// What librbd does with threads, measured on a real cluster (input for the RBD bdev's design,
// issue 17; findings in docs/ceph.md). Not part of nvmfd: a test program on librbd's C API.
//
//   librbd_threading_smoke   (CEPH_CONF and CEPH_POOL from ceph_cluster.sh env)
//
// 1. Callback mode: 64 aio writes and a flush, each with a completion callback; which threads
//    run the callbacks, whether two ever run at once, whether one runs on the submitter.
//    Twice: before the first flush librbd's cache is writethrough, after it writeback.
// 2. Eventfd mode: rbd_set_image_notification(EVENT_TYPE_EVENTFD); the submitter poll()s the
//    eventfd and collects completions with rbd_poll_io_events (no librbd thread touches ours).
// 3. Reads back what was written (aio reads, eventfd mode) and compares.
// 4. The threads librbd/librados start in this process, by name: with one cluster connection
//    and one image, with a second image on it, and with a second cluster connection.
// Exit 0 when every I/O completed with success and the data read back; 1 otherwise.
#include <rados/librados.h>
#include <rbd/librbd.h>

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

constexpr int io_count = 64;
constexpr size_t io_size = 4096;

pid_t thread_id() { return static_cast<pid_t>(syscall(SYS_gettid)); }

std::string thread_name() {
  char name[32] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

[[noreturn]] void fail(const char* what, int r) {
  std::fprintf(stderr, "FAIL: %s: %s (%d)\n", what, std::strerror(-r), r);
  std::exit(1);
}

void check(const char* what, int r) {
  if (r < 0) fail(what, r);
}

// What the callbacks saw, shared with the submitting thread.
struct callback_log {
  std::mutex lock;
  std::condition_variable done;
  int completed = 0;
  int failed = 0;
  std::map<std::string, int> threads;  // thread name -> callbacks it ran
  std::set<pid_t> tids;
  int on_submitter = 0;
  std::atomic<int> running{0};
  int max_running = 0;
  pid_t submitter = 0;
};

struct io_slot {
  callback_log* log;
  rbd_completion_t completion;
};

void on_complete(rbd_completion_t c, void* arg) {
  auto* slot = static_cast<io_slot*>(arg);
  callback_log& log = *slot->log;
  int now = ++log.running;
  // Stay a little (0.2 ms, busy) so that callbacks running in parallel would overlap here.
  auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
  while (std::chrono::steady_clock::now() < until) {
  }
  now = std::max(now, log.running.load());
  ssize_t r = rbd_aio_get_return_value(c);
  rbd_aio_release(c);  // allowed from the callback: the completion is ours to free
  std::lock_guard<std::mutex> guard(log.lock);
  log.max_running = std::max(log.max_running, now);
  log.threads[thread_name()]++;
  log.tids.insert(thread_id());
  if (thread_id() == log.submitter) log.on_submitter++;
  if (r < 0) log.failed++;
  log.completed++;
  --log.running;
  log.done.notify_all();
}

void wait_for(callback_log& log, int n) {
  std::unique_lock<std::mutex> guard(log.lock);
  log.done.wait(guard, [&] { return log.completed >= n; });
}

void print_threads(const char* label, const callback_log& log) {
  std::printf("%s: %d completions, %d failed, on %zu thread(s):", label, log.completed, log.failed,
              log.tids.size());
  for (auto& [name, n] : log.threads) std::printf(" \"%s\" x%d", name.c_str(), n);
  std::printf("; on the submitting thread: %d; most at once: %d\n", log.on_submitter, log.max_running);
}

std::vector<char> pattern(int i, char seed) {
  std::vector<char> buf(io_size);
  for (size_t k = 0; k < io_size; ++k) buf[k] = static_cast<char>(seed + i * 7 + k % 251);
  return buf;
}

// Callback mode: io_count writes then a flush; returns when every callback ran.
void callback_mode(rbd_image_t image, const char* label) {
  callback_log log;
  log.submitter = thread_id();
  std::vector<io_slot> slots(io_count + 1, io_slot{&log, nullptr});
  std::vector<std::vector<char>> bufs;
  for (int i = 0; i < io_count; ++i) bufs.push_back(pattern(i, 'a'));
  for (int i = 0; i < io_count; ++i) {
    check("rbd_aio_create_completion", rbd_aio_create_completion(&slots[i], on_complete, &slots[i].completion));
    check("rbd_aio_write", rbd_aio_write(image, i * io_size, io_size, bufs[i].data(), slots[i].completion));
  }
  wait_for(log, io_count);
  check("rbd_aio_create_completion", rbd_aio_create_completion(&slots[io_count], on_complete, &slots[io_count].completion));
  check("rbd_aio_flush", rbd_aio_flush(image, slots[io_count].completion));
  wait_for(log, io_count + 1);
  print_threads(label, log);
  if (log.failed != 0) fail("callback-mode I/O", -EIO);
}

// Eventfd mode: completions without a callback, collected by the submitter from the image's
// notification eventfd `efd`.
void eventfd_mode(rbd_image_t image, int efd, bool read_back) {
  std::vector<std::vector<char>> bufs;
  std::vector<rbd_completion_t> comps(io_count);
  for (int i = 0; i < io_count; ++i) bufs.push_back(read_back ? std::vector<char>(io_size) : pattern(i, 'k'));
  for (int i = 0; i < io_count; ++i) {
    check("rbd_aio_create_completion", rbd_aio_create_completion(reinterpret_cast<void*>(intptr_t(i)), nullptr, &comps[i]));
    int r = read_back ? rbd_aio_read(image, i * io_size, io_size, bufs[i].data(), comps[i])
                      : rbd_aio_write(image, i * io_size, io_size, bufs[i].data(), comps[i]);
    check(read_back ? "rbd_aio_read" : "rbd_aio_write", r);
  }
  int seen = 0, wakeups = 0, failed = 0;
  while (seen < io_count) {
    pollfd p{efd, POLLIN, 0};
    int n = poll(&p, 1, 30000);
    if (n == 0) fail("eventfd never became readable in 30 s", -ETIMEDOUT);
    if (n < 0) fail("poll", -errno);
    uint64_t count = 0;
    if (read(efd, &count, sizeof count) != sizeof count) continue;
    ++wakeups;
    rbd_completion_t got[io_count];
    int k = rbd_poll_io_events(image, got, io_count);
    check("rbd_poll_io_events", k);
    for (int j = 0; j < k; ++j) {
      auto i = reinterpret_cast<intptr_t>(rbd_aio_get_arg(got[j]));
      if (rbd_aio_get_return_value(got[j]) < 0) ++failed;
      if (read_back && bufs[i] != pattern(int(i), 'k')) fail("read back differs", -EIO);
      rbd_aio_release(got[j]);
    }
    seen += k;
  }
  std::printf("eventfd mode (%s x64): %d completions in %d wake-up(s), %d failed\n",
              read_back ? "read" : "write", seen, wakeups, failed);
  if (failed != 0) fail("eventfd-mode I/O", -EIO);
}

void print_thread_census(const char* when) {
  std::map<std::string, int> names;
  DIR* d = opendir("/proc/self/task");
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    names[name]++;
  }
  if (d) closedir(d);
  int total = 0;
  for (auto& [name, n] : names) total += n;
  std::printf("threads %s: %d:", when, total);
  for (auto& [name, n] : names) std::printf(" \"%s\" x%d", name.c_str(), n);
  std::printf("\n");
}

}  // namespace

int main() {
  const char* conf = std::getenv("CEPH_CONF");
  const char* pool = std::getenv("CEPH_POOL");
  if (!conf || !pool) {
    std::fprintf(stderr, "usage: CEPH_CONF=... CEPH_POOL=... librbd_threading_smoke\n");
    return 2;
  }
  rados_t cluster;
  check("rados_create2", rados_create2(&cluster, "ceph", "client.admin", 0));
  check("rados_conf_read_file", rados_conf_read_file(cluster, conf));
  check("rados_connect", rados_connect(cluster));
  rados_ioctx_t io;
  check("rados_ioctx_create", rados_ioctx_create(cluster, pool, &io));
  const char* name = "threading-smoke";
  int order = 0;
  check("rbd_create", rbd_create(io, name, 64 << 20, &order));
  rbd_image_t image;
  check("rbd_open", rbd_open(io, name, &image, nullptr));
  std::printf("submitting thread: \"%s\"\n", thread_name().c_str());
  int major = 0, minor = 0, extra = 0;
  rbd_version(&major, &minor, &extra);
  char cache[16] = {}, writethrough[16] = {};
  check("rados_conf_get", rados_conf_get(cluster, "rbd_cache", cache, sizeof cache));
  check("rados_conf_get", rados_conf_get(cluster, "rbd_cache_writethrough_until_flush", writethrough, sizeof writethrough));
  std::printf("librbd %d.%d.%d; rbd_cache=%s rbd_cache_writethrough_until_flush=%s\n", major, minor, extra,
              cache, writethrough);

  // The first round runs while rbd_cache is still writethrough (until the first flush); the
  // second with the writeback cache, where a write may complete without a round trip.
  callback_mode(image, "callback mode, writethrough (write x64 + flush)");
  callback_mode(image, "callback mode, writeback cache (write x64 + flush)");
  // Once per image: librbd refuses to change or clear it (EINVAL) until the image is closed.
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) fail("eventfd", -errno);
  check("rbd_set_image_notification", rbd_set_image_notification(image, efd, EVENT_TYPE_EVENTFD));
  eventfd_mode(image, efd, false);
  eventfd_mode(image, efd, true);
  print_thread_census("with one cluster connection and one open image");

  const char* name2 = "threading-smoke-2";
  check("rbd_create", rbd_create(io, name2, 64 << 20, &order));
  rbd_image_t image2;
  check("rbd_open", rbd_open(io, name2, &image2, nullptr));
  print_thread_census("with a second image open on that connection");
  rados_t cluster2;
  check("rados_create2", rados_create2(&cluster2, "ceph", "client.admin", 0));
  check("rados_conf_read_file", rados_conf_read_file(cluster2, conf));
  check("rados_connect", rados_connect(cluster2));
  print_thread_census("with a second cluster connection too");
  rados_shutdown(cluster2);
  check("rbd_close", rbd_close(image2));
  check("rbd_remove", rbd_remove(io, name2));

  check("rbd_close", rbd_close(image));
  close(efd);
  check("rbd_remove", rbd_remove(io, name));
  rados_ioctx_destroy(io);
  rados_shutdown(cluster);
  std::printf("librbd_threading_smoke: passed\n");
  return 0;
}
