// fault_bdev: forwarding, one-shot and persistent failures, held I/Os, claims.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "bdev/fault_bdev.h"
#include "bdev/ram_bdev.h"
#include "bdev_harness.h"

namespace nvmfd::test {
namespace {

class fault_bdev_test : public ::testing::Test {
 protected:
  void SetUp() override {
    inner_ = *ram_bdev::create("Malloc0", 512, 1024, std::nullopt);
    auto f = fault_bdev::create("Fault0", inner_);
    ASSERT_TRUE(f.ok());
    fault_ = *f;
  }
  void TearDown() override {
    EXPECT_EQ(h_.inline_completions(), 0);
    EXPECT_EQ(h_.wrong_thread_completions(), 0);
  }

  bdev_harness h_;
  std::shared_ptr<ram_bdev> inner_;
  std::shared_ptr<fault_bdev> fault_;
};

TEST_F(fault_bdev_test, mirrors_and_claims_the_inner_bdev) {
  EXPECT_EQ(fault_->block_size(), 512u);
  EXPECT_EQ(fault_->num_blocks(), 1024u);
  EXPECT_EQ(fault_->has_volatile_cache(), inner_->has_volatile_cache());
  EXPECT_NE(fault_->id(), inner_->id());
  EXPECT_TRUE(inner_->claimed());
  EXPECT_EQ(inner_->claimed_by(), "Fault0");
  fault_.reset();
  EXPECT_FALSE(inner_->claimed());
  EXPECT_FALSE(fault_bdev::create("x", nullptr).ok());
}

TEST_F(fault_bdev_test, forwards_when_no_rule_is_set) {
  aligned_buffer w(4 * 512), r(4 * 512);
  fill_pattern(w.span(), 1);
  ASSERT_EQ(h_.write(*fault_, 8, 4, w.data()), 0);
  ASSERT_EQ(h_.read(*inner_, 8, 4, r.data()), 0);  // it reached the inner bdev
  EXPECT_EQ(std::memcmp(w.data(), r.data(), w.size()), 0);
  EXPECT_EQ(h_.read(*fault_, 1024, 1, r.data()), -EINVAL);
  EXPECT_EQ(fault_->submitted(bdev_op::write), 1u);
  EXPECT_EQ(fault_->injected(bdev_op::write), 0u);
}

TEST_F(fault_bdev_test, fail_nth_fails_exactly_that_io) {
  aligned_buffer buf(512);
  fault_->fail_nth(bdev_op::write, 3, EIO);
  EXPECT_EQ(h_.write(*fault_, 0, 1, buf.data()), 0);
  EXPECT_EQ(h_.read(*fault_, 0, 1, buf.data()), 0);  // other ops do not count
  EXPECT_EQ(h_.write(*fault_, 1, 1, buf.data()), 0);
  EXPECT_EQ(h_.write(*fault_, 2, 1, buf.data()), -EIO);
  EXPECT_EQ(h_.write(*fault_, 3, 1, buf.data()), 0);
  EXPECT_EQ(fault_->injected(bdev_op::write), 1u);
  EXPECT_EQ(fault_->submitted(bdev_op::write), 4u);
}

TEST_F(fault_bdev_test, fail_nth_among_concurrent_ios) {
  fault_->fail_nth(bdev_op::read, 10, ENOSPC);
  std::vector<aligned_buffer> bufs;
  std::vector<bdev_io> ios(32);
  for (size_t i = 0; i < ios.size(); ++i) {
    bufs.emplace_back(512);
    ios[i] = h_.make(bdev_op::read, i, 1, bufs.back().data());
  }
  ASSERT_TRUE(h_.run_all(*fault_, ios));
  int failed = 0;
  for (auto& io : ios) {
    if (io.status == -ENOSPC) {
      ++failed;
    } else {
      EXPECT_EQ(io.status, 0);
    }
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(ios[9].status, -ENOSPC);
}

TEST_F(fault_bdev_test, fail_all_until_healed) {
  aligned_buffer buf(512);
  fault_->fail_all(bdev_op::flush, EIO);
  fault_->fail_all(bdev_op::unmap, EOPNOTSUPP);
  EXPECT_EQ(h_.flush(*fault_), -EIO);
  EXPECT_EQ(h_.flush(*fault_), -EIO);
  EXPECT_EQ(h_.unmap(*fault_, 0, 1), -EOPNOTSUPP);
  EXPECT_EQ(h_.write(*fault_, 0, 1, buf.data()), 0);
  fault_->heal();
  EXPECT_EQ(h_.flush(*fault_), 0);
  EXPECT_EQ(h_.unmap(*fault_, 0, 1), 0);
  EXPECT_EQ(fault_->injected(bdev_op::flush), 2u);
}

TEST_F(fault_bdev_test, held_ios_wait_until_released) {
  fault_->hold_all(bdev_op::write);
  aligned_buffer w(512), r(512);
  fill_pattern(w.span(), 2);
  bdev_io io = h_.make(bdev_op::write, 7, 1, w.data());
  h_.submit_on(0, *fault_, std::span<bdev_io>(&io, 1));
  EXPECT_FALSE(h_.wait(std::chrono::seconds(0)));
  ASSERT_TRUE(fault_->wait_held(1, std::chrono::seconds(10)));
  ASSERT_EQ(fault_->held(), 1u);
  EXPECT_EQ(h_.read(*fault_, 7, 1, r.data()), 0);  // reads still pass
  EXPECT_TRUE(all_zero(r.span()));
  fault_->heal();
  EXPECT_EQ(fault_->release_held(), 1u);
  ASSERT_TRUE(h_.wait());
  EXPECT_EQ(io.status, 0);
  EXPECT_EQ(h_.read(*fault_, 7, 1, r.data()), 0);
  EXPECT_EQ(std::memcmp(w.data(), r.data(), 512), 0);
}

TEST_F(fault_bdev_test, held_ios_can_be_failed) {
  fault_->hold_all(bdev_op::read);
  std::vector<aligned_buffer> bufs;
  std::vector<bdev_io> ios(5);
  for (size_t i = 0; i < ios.size(); ++i) {
    bufs.emplace_back(512);
    ios[i] = h_.make(bdev_op::read, i, 1, bufs.back().data());
  }
  h_.submit_on(0, *fault_, ios);
  ASSERT_TRUE(fault_->wait_held(5, std::chrono::seconds(10)));
  ASSERT_EQ(fault_->held(), 5u);
  EXPECT_EQ(fault_->fail_held(ETIMEDOUT), 5u);
  ASSERT_TRUE(h_.wait());
  for (auto& io : ios) EXPECT_EQ(io.status, -ETIMEDOUT);
  EXPECT_EQ(fault_->held(), 0u);
}

}  // namespace
}  // namespace nvmfd::test
