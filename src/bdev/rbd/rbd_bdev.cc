#include "bdev/rbd/rbd_bdev.h"

#include <rados/librados.h>
#include <rbd/librbd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>

#include <fmt/format.h>

#include "base/log.h"
#include "bdev/bdev_validate.h"
#include "bdev/rbd/rbd_image_closer.h"

namespace nvmfd {

namespace {

// Per-I/O state in bdev_io::backend_ctx.
struct rbd_io_state {
  bdev_op next;      // what start() submits when the current step completes
  bool flush_after;  // a fua write on a cached image: flush once the write is done
};

// Runs fn on r's thread and waits for it. False when r's loop has ended (fn did not run;
// nothing runs there any more). From r's own thread, runs fn directly.
bool run_on_reactor(reactor& r, std::function<void()> fn) {
  if (reactor::current() == &r) {
    fn();
    return true;
  }
  struct task final : deferred_task {
    std::function<void()> fn;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    void run_deferred() override {
      fn();
      std::lock_guard lk(mu);
      done = true;
      cv.notify_all();
    }
  } t;
  t.fn = std::move(fn);
  if (!r.post(t)) return false;
  std::unique_lock lk(t.mu);
  t.cv.wait(lk, [&] { return t.done; });
  return true;
}

error rbd_error(int rc, std::string what) {
  error e{rc == -ENOENT ? errc::not_found : errc::io_error, fmt::format("{}: {}", what, std::strerror(-rc))};
  e.sys_errno = -rc;
  return e;
}

bool parse_bool(const std::string& v) { return v == "true" || v == "1" || v == "yes" || v == "on"; }

// rbd_cache as librbd applies it to this image: the image's metadata override, else the
// connection's config.
bool image_cache_enabled(rbd_image_t image, const rbd_cluster& cluster) {
  char buf[64];
  size_t len = sizeof buf;
  if (rbd_metadata_get(image, "conf_rbd_cache", buf, &len) == 0) return parse_bool(std::string(buf, strnlen(buf, len)));
  return parse_bool(cluster.conf_get("rbd_cache"));
}

}  // namespace

result<std::shared_ptr<rbd_bdev>> rbd_bdev::create(std::string name, std::shared_ptr<rbd_cluster> cluster,
                                                   std::string pool_name, std::string rbd_name, uint32_t block_size,
                                                   std::optional<uuid> id, reactor& home) {
  if (auto b = check_block_size(block_size); !b) return b.take_err();
  rados_ioctx_t ioctx = nullptr;
  if (int rc = rados_ioctx_create(cluster->handle(), pool_name.c_str(), &ioctx); rc < 0)
    return rbd_error(rc, fmt::format("rbd pool {}", pool_name));
  rbd_image_t image = nullptr;
  if (int rc = rbd_open(ioctx, rbd_name.c_str(), &image, nullptr); rc < 0) {
    rados_ioctx_destroy(ioctx);
    return rbd_error(rc, fmt::format("rbd image {}/{}", pool_name, rbd_name));
  }
  auto fail = [&](error e) -> error {
    rbd_close(image);
    rados_ioctx_destroy(ioctx);
    return e;
  };
  uint64_t size = 0;
  if (int rc = rbd_get_size(image, &size); rc < 0)
    return fail(rbd_error(rc, fmt::format("size of rbd image {}/{}", pool_name, rbd_name)));
  auto geometry = check_geometry(block_size, size / block_size);
  if (!geometry)
    return fail(error{errc::invalid_argument, fmt::format("rbd image {}/{} of {} bytes: {}", pool_name, rbd_name,
                                                          size, geometry.err().message)});
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return fail(rbd_error(-errno, "eventfd"));
  if (int rc = rbd_set_image_notification(image, efd, EVENT_TYPE_EVENTFD); rc < 0) {
    ::close(efd);
    return fail(rbd_error(rc, "rbd_set_image_notification"));
  }
  bool cache = image_cache_enabled(image, *cluster);
  auto b = std::shared_ptr<rbd_bdev>(new rbd_bdev(std::move(name), block_size, size / block_size, pick_uuid(id),
                                                  std::move(cluster), std::move(pool_name), std::move(rbd_name),
                                                  ioctx, image, efd, cache, home));
  result<void> w = error{errc::closed, "the home reactor has stopped"};
  run_on_reactor(home, [&] { w = home.watch(efd, EPOLLIN, b.get()); });
  if (!w) return error{w.err().code, fmt::format("rbd bdev {}: watching its completions: {}", b->name(), w.err().message)};
  b->watched_ = true;
  if (int rc = rbd_update_watch(image, &b->header_watch_, &rbd_bdev::on_header_update, b.get()); rc < 0)
    NVMFD_LOG_WARN("rbd bdev {}: no watch on the image header ({}): a resize by another client goes unseen",
                   b->name(), std::strerror(-rc));
  else
    b->header_watched_ = true;
  NVMFD_LOG_INFO("rbd bdev {}: image {}/{}, {} blocks of {} bytes, rbd_cache {}, completions on reactor {}",
                 b->name(), b->pool_name_, b->rbd_name_, b->num_blocks(), block_size, cache ? "on" : "off",
                 home.index());
  return b;
}

rbd_bdev::rbd_bdev(std::string name, uint32_t block_size, uint64_t num_blocks, uuid id,
                   std::shared_ptr<rbd_cluster> cluster, std::string pool_name, std::string rbd_name,
                   rados_ioctx_t ioctx, rbd_image_t image, int efd, bool volatile_cache, reactor& home)
    : bdev(std::move(name), block_size, num_blocks, id),
      cluster_(std::move(cluster)),
      pool_name_(std::move(pool_name)),
      rbd_name_(std::move(rbd_name)),
      ioctx_(ioctx),
      image_(image),
      efd_(efd),
      volatile_cache_(volatile_cache),
      home_(home),
      quiet_ns_(std::max<int64_t>(1, cluster_->osd_op_timeout_s()) * 1'000'000'000) {
  cluster_->add_user();
}

rbd_bdev::~rbd_bdev() {
  if (header_watched_) rbd_update_unwatch(image_, header_watch_);  // waits for a callback under way
  if (watched_) run_on_reactor(home_, [this] { home_.unwatch(efd_); });
  // rbd_close flushes librbd's cache and releases the exclusive lock: with the cluster gone
  // it waits for the OSD op timeouts, so it runs on a thread of its own (rbd_image_closer.h).
  // A short wait here keeps a delete on a reachable cluster synchronous; none when the
  // cluster is known to be gone, so that shutdown starts every close at once.
  // Never on a reactor of the pool (the last reference dropped by the I/O path): it must
  // not stall.
  reactor* here = reactor::current();
  bool no_wait = failing_.load() || cluster_->unreachable() || (here && !here->blocking_allowed());
  auto grace = no_wait ? std::chrono::milliseconds(0) : std::chrono::milliseconds(1000);
  // Measured with the OSD stopped (docs/ceph.md): about three OSD op timeouts.
  auto expect = std::chrono::seconds(3 * cluster_->osd_op_timeout_s() + 5);
  std::string what = fmt::format("RBD image {}/{} (bdev {})", pool_name_, rbd_name_, name());
  bool done = rbd_image_closer::instance().close(
      what,
      [what, image = image_, ioctx = ioctx_, efd = efd_, cluster = cluster_] {
        if (int rc = rbd_close(image); rc < 0) NVMFD_LOG_ERROR("closing {}: {}", what, std::strerror(-rc));
        rados_ioctx_destroy(ioctx);
        ::close(efd);
        cluster->remove_user();
      },
      grace, expect);
  if (!done) cluster_->note_unreachable(true);
}

result<void> rbd_bdev::resize(uint64_t new_size) {
  uint64_t now = num_blocks() * block_size();
  if (new_size % block_size() != 0)
    return error{errc::invalid_argument, fmt::format("new size {} is not a multiple of the block size {}", new_size,
                                                     block_size())};
  if (new_size < now)
    return error{errc::invalid_argument, fmt::format("new size {} is smaller than the current {}", new_size, now)};
  if (auto g = check_geometry(block_size(), new_size / block_size()); !g) return g.take_err();
  if (new_size == now) return {};
  if (int rc = rbd_resize(image_, new_size); rc < 0)
    return rbd_error(rc, fmt::format("resizing rbd image {}/{}", pool_name_, rbd_name_));
  refresh_size();  // not under size_mu_ around rbd_resize: the header callback may wait for it
  return {};
}

void rbd_bdev::on_header_update(void* self) { static_cast<rbd_bdev*>(self)->refresh_size(); }

void rbd_bdev::refresh_size() {
  uint64_t size = 0;
  if (int rc = rbd_get_size(image_, &size); rc < 0) {
    NVMFD_LOG_WARN("rbd bdev {}: reading the image size: {}", name(), std::strerror(-rc));
    return;
  }
  std::lock_guard lk(size_mu_);
  uint64_t n = size / block_size();
  if (n == num_blocks() || n == 0) return;
  set_num_blocks(n);
  NVMFD_LOG_INFO("rbd bdev {}: image {}/{} is now {} blocks", name(), pool_name_, rbd_name_, n);
}

void rbd_bdev::do_submit(bdev_io& io) {
  if (int st = validate_io(*this, io); st != 0) return io.complete_later(st);
  bool flush_after = io.fua && volatile_cache_ && (io.op == bdev_op::write || io.op == bdev_op::write_zeroes);
  io.emplace_backend_ctx<rbd_io_state>(rbd_io_state{io.op, flush_after});
  if (int rc = start(io, io.op); rc < 0) io.complete_later(rc);
}

int rbd_bdev::start(bdev_io& io, bdev_op op) {
  rbd_completion_t c = nullptr;
  if (int rc = rbd_aio_create_completion(&io, nullptr, &c); rc < 0) return rc;
  io.backend_ctx_as<rbd_io_state>().next = op;
  uint64_t off = io.offset_blocks * block_size();
  uint64_t len = io.num_blocks * block_size();
  int rc = 0;
  switch (op) {
    case bdev_op::read: rc = rbd_aio_read(image_, off, len, reinterpret_cast<char*>(io.buf), c); break;
    case bdev_op::write: rc = rbd_aio_write2(image_, off, len, reinterpret_cast<const char*>(io.buf), c, 0); break;
    case bdev_op::flush: rc = rbd_aio_flush(image_, c); break;
    case bdev_op::write_zeroes:
    case bdev_op::unmap: rc = rbd_aio_write_zeroes(image_, off, len, c, 0, 0); break;
  }
  if (rc < 0) rbd_aio_release(c);
  return rc;
}

void rbd_bdev::on_events(uint32_t) {
  uint64_t n;
  while (::read(efd_, &n, sizeof n) == sizeof n) {
  }
  rbd_completion_t comps[32];
  int got;
  do {
    got = rbd_poll_io_events(image_, comps, 32);
    for (int i = 0; i < got; ++i) finish(comps[i]);
  } while (got == 32);
}

void rbd_bdev::finish(rbd_completion_t c) {
  auto& io = *static_cast<bdev_io*>(rbd_aio_get_arg(c));
  auto rc = rbd_aio_get_return_value(c);
  rbd_aio_release(c);
  auto& st = io.backend_ctx_as<rbd_io_state>();
  if (rc >= 0 && st.flush_after && st.next != bdev_op::flush) {
    if (int f = start(io, bdev_op::flush); f < 0) return complete(io, f);
    return;
  }
  complete(io, rc < 0 ? static_cast<int>(rc) : 0);
}

void rbd_bdev::complete(bdev_io& io, int status) {
  if (status < 0) {
    last_error_ns_.store(now_ns(), std::memory_order_relaxed);
    if (status == -ETIMEDOUT) cluster_->note_unreachable(true);
    if (!failing_.exchange(true))
      NVMFD_LOG_ERROR("rbd bdev {}: I/O on image {}/{} failed: {} (further errors not logged until one succeeds)",
                      name(), pool_name_, rbd_name_, std::strerror(-status));
  } else if (failing_.load(std::memory_order_relaxed) && proves_reachable(io.backend_ctx_as<rbd_io_state>().next) && failing_.exchange(false)) {
    cluster_->note_unreachable(false);
    NVMFD_LOG_INFO("rbd bdev {}: I/O on image {}/{} succeeds again", name(), pool_name_, rbd_name_);
  }
  io.status = status;
  (void)io.owner->post(io);  // the submitting reactor; false only once its loop has ended
}

result<void> rbd_bdev::take_over_lock() {
  int is_owner = 0;
  if (int rc = rbd_is_exclusive_lock_owner(image_, &is_owner); rc < 0) return rbd_error(rc, "rbd_is_exclusive_lock_owner");
  if (!is_owner) {
    rbd_lock_mode_t mode;
    char* owners[4];
    size_t n = 4;
    int rc = rbd_lock_get_owners(image_, &mode, owners, &n);
    if (rc < 0 && rc != -ENOENT) return rbd_error(rc, "rbd_lock_get_owners");
    if (rc == 0) {
      int broke = 0;
      for (size_t i = 0; i < n && broke == 0; ++i) {
        NVMFD_LOG_WARN("rbd bdev {}: breaking the exclusive lock of {} on {}/{}", name(), owners[i], pool_name_, rbd_name_);
        broke = rbd_lock_break(image_, mode, owners[i]);
      }
      rbd_lock_get_owners_cleanup(owners, n);
      if (broke < 0 && broke != -ENOENT) return rbd_error(broke, "rbd_lock_break");
    }
  }
  return drop_cache();
}

result<void> rbd_bdev::drop_cache() {
  if (int rc = rbd_invalidate_cache(image_); rc < 0) return rbd_error(rc, "rbd_invalidate_cache");
  return success();
}

int64_t rbd_bdev::now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// With librbd's writeback cache, a write (or a read of cached blocks) succeeds while the
// cluster is gone: taken as the end of a burst of errors it would make the log alternate
// between "failed" and "succeeds again". A flush, any I/O without the cache, or any I/O a
// whole OSD op timeout after the last error (by then every I/O issued while it was gone
// has failed) does reach the cluster.
bool rbd_bdev::proves_reachable(bdev_op done) const {
  if (!volatile_cache_ || done == bdev_op::flush) return true;
  return now_ns() - last_error_ns_.load(std::memory_order_relaxed) >= quiet_ns_;
}

}  // namespace nvmfd
