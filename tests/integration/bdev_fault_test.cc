// The target over a failing or stalled block device (fault_bdev around a RAM disk, as
// namespace 3 of open_nqn): bdev errors become NVMe statuses, and connections that end
// while their I/O is still in the bdev are torn down only once that I/O is back.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <future>

#include "bdev/fault_bdev.h"
#include "target_test.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t fault_nsid = 3;

class bdev_fault_test : public target_test {
 protected:
  void SetUp() override {
    target_test::SetUp();
    if (HasFatalFailure()) return;
    auto inner = fx->make_ram_bdev("fault_inner", 512, 8192);
    ASSERT_TRUE(ok(inner));
    auto f = fault_bdev::create("fault", *inner);
    ASSERT_TRUE(ok(f));
    dev_ = *f;
    auto nsid = fx->target().add_namespace(std::string(target_fixture::open_nqn), {.dev = dev_, .nsid = nsid_t{fault_nsid}});
    ASSERT_TRUE(ok(nsid));
  }

  void TearDown() override {
    // Nothing may stay held when the target goes (the bdev must outlive its I/Os).
    if (dev_) {
      dev_->heal();
      dev_->release_held();
    }
    target_test::TearDown();
    dev_.reset();
  }

  // Waits until n I/Os are held in the wrapper.
  bool wait_held(size_t n) { return dev_->wait_held(n, 10s); }

  std::shared_ptr<fault_bdev> dev_;
};

TEST_F(bdev_fault_test, bdev_errors_become_nvme_statuses) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto data = random_bytes(4096, 1);
  struct row {
    const char* name;
    bdev_op op;
    int err;
    nvme_status want;
  };
  const std::vector<row> rows{
      {"read EIO", bdev_op::read, EIO, nvme_status::media(sc_media::unrecovered_read_error)},
      {"write EIO", bdev_op::write, EIO, nvme_status::media(sc_media::write_fault)},
      {"write ENOSPC", bdev_op::write, ENOSPC, nvme_status::generic(sc_generic::capacity_exceeded)},
      {"write EROFS", bdev_op::write, EROFS, nvme_status::generic(sc_generic::namespace_is_write_protected)},
      {"flush EIO", bdev_op::flush, EIO, nvme_status::media(sc_media::write_fault)},
      {"unmap EIO", bdev_op::unmap, EIO, nvme_status::media(sc_media::write_fault)},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const uint64_t injected_before = dev_->injected(r.op);
    dev_->fail_nth(r.op, 1, r.err);
    result<command_result> res = error{errc::invalid_argument, "no row"};
    switch (r.op) {
      case bdev_op::read: res = h->io.read(fault_nsid, 0, 8, 512); break;
      case bdev_op::write: res = h->io.write(fault_nsid, 0, data, 512, write_mode::r2t); break;
      case bdev_op::flush: res = h->io.flush(fault_nsid); break;
      case bdev_op::unmap: {
        const std::vector<lba_range> ranges{{0, 8}};
        res = h->io.dsm_deallocate(fault_nsid, ranges);
        break;
      }
      default: break;
    }
    EXPECT_TRUE(has_status(res, r.want));
    EXPECT_EQ(dev_->injected(r.op), injected_before + 1);
    // Only that command failed (fail_nth is one-shot).
    EXPECT_TRUE(succeeded(h->io.write(fault_nsid, 8, data, 512, write_mode::in_capsule)));
    auto back = h->io.read(fault_nsid, 8, 8, 512);
    ASSERT_TRUE(succeeded(back));
    EXPECT_TRUE(back->data == data);
  }
}

// A stalled command does not hold up the others on the queue, or other queues.
TEST_F(bdev_fault_test, a_stalled_read_does_not_block_other_commands) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  dev_->hold_all(bdev_op::read);
  auto stalled = h->io.submit_read(fault_nsid, 0, 8, 512);
  ASSERT_TRUE(ok(stalled));
  ASSERT_TRUE(wait_held(1));
  auto data = random_bytes(4096, 2);
  EXPECT_TRUE(succeeded(h->io.write(target_fixture::ns_512, 0, data, 512, write_mode::in_capsule)));
  EXPECT_TRUE(succeeded(h->io.read(target_fixture::ns_512, 0, 8, 512)));
  EXPECT_TRUE(succeeded(h->admin.keep_alive()));
  EXPECT_EQ(h->io.outstanding(), 1u);
  dev_->heal();
  EXPECT_EQ(dev_->release_held(), 1u);
  EXPECT_TRUE(succeeded(h->io.wait(*stalled)));
}

// The host goes away while its commands are in the bdev: the I/O finishes into a closed
// connection, and the target goes on serving (ASan builds catch use after free here).
TEST_F(bdev_fault_test, host_closes_while_io_is_in_the_bdev) {
  dev_->hold_all(bdev_op::read);
  dev_->hold_all(bdev_op::write);
  {
    auto h = connect_controller();
    ASSERT_TRUE(ok(h));
    auto data = random_bytes(4096, 3);
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(ok(h->io.submit_read(fault_nsid, uint64_t(i) * 8, 8, 512)));
      ASSERT_TRUE(ok(h->io.submit_write(fault_nsid, 1024 + uint64_t(i) * 8, data, 512, write_mode::in_capsule)));
    }
    ASSERT_TRUE(wait_held(8));
  }  // both connections close with eight I/Os held
  // The target has seen the admin queue go (its controller is gone), and has queued the I/O
  // queue's close ahead of the completions that release_held posts to the same reactor.
  ASSERT_TRUE(wait_until([&] {
    auto c = fx->target().controllers(std::string(target_fixture::open_nqn));
    return c && c->empty();
  }));
  dev_->heal();
  EXPECT_EQ(dev_->release_held(), 8u);
  // The target is fine, and so is the namespace.
  auto h2 = connect_controller();
  ASSERT_TRUE(ok(h2));
  EXPECT_TRUE(succeeded(h2->io.read(fault_nsid, 0, 8, 512)));
}

// A protocol error while a command is in the bdev: TermReq and close now, the I/O is
// reaped when it completes.
TEST_F(bdev_fault_test, term_req_while_io_is_in_the_bdev) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  dev_->hold_all(bdev_op::read);
  ASSERT_TRUE(ok(h->io.submit_read(fault_nsid, 0, 8, 512)));
  ASSERT_TRUE(wait_held(1));
  const auto junk = random_bytes(64, 4);
  ASSERT_TRUE(ok(h->io.send_raw(junk)));
  auto t = h->io.expect_term_req_and_close();
  ASSERT_TRUE(ok(t));
  h->io.close();  // as a host does after a TermReq
  dev_->heal();
  EXPECT_EQ(dev_->release_held(), 1u);
  EXPECT_TRUE(succeeded(h->admin.keep_alive()));
  // qid 1 is free again once the target has seen the connection go (asynchronously).
  test_client io;
  ASSERT_TRUE(wait_until([&] { return io_queue_1_connects(io, h->cntlid); }))
      << "qid 1 still taken 10 s after its connection closed";
  EXPECT_TRUE(succeeded(io.read(fault_nsid, 0, 8, 512)));
}

// Shutdown closes every connection at once, waits for the I/O still in the bdev, and
// returns as soon as that I/O is back (no polling round, far below the 30 s limit).
TEST_F(bdev_fault_test, shutdown_waits_for_io_in_the_bdev_and_no_longer) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  dev_->hold_all(bdev_op::read);
  ASSERT_TRUE(ok(h->io.submit_read(fault_nsid, 0, 8, 512)));
  ASSERT_TRUE(wait_held(1));
  auto stopped = std::async(std::launch::async, [&] { fx->target().shutdown(); });
  EXPECT_TRUE(ok(h->admin.socket().wait_closed(10s)));
  EXPECT_TRUE(ok(h->io.socket().wait_closed(10s)));
  // Both connections are closed, but the read is still in the bdev: shutdown waits for it.
  EXPECT_EQ(stopped.wait_for(0s), std::future_status::timeout);
  dev_->heal();
  EXPECT_EQ(dev_->release_held(), 1u);
  EXPECT_EQ(stopped.wait_for(10s), std::future_status::ready) << "shutdown still waits after the I/O came back";
  stopped.get();
}

}  // namespace
}  // namespace nvmfd
