#pragma once
// target_test: the gtest fixture of the integration tests. Each test gets a fresh
// in-process target (target_fixture) and must leave the process as it found it: the
// number of threads and of open file descriptors is compared before and after.
// Tests that need other transport options override transport().
#include <dirent.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "target_fixture.h"
#include "test_client.h"
#include "test_controller.h"
#include "test_support.h"

namespace nvmfd {

class target_test : public ::testing::Test {
 protected:
  virtual tcp_transport_options transport() const { return target_fixture::default_transport(); }
  // The target's clock: null for the steady clock; tests of timers return a manual_time.
  virtual time_source* time() { return nullptr; }

  void SetUp() override {
    threads_before_ = count_entries("/proc/self/task");
    fds_before_ = count_entries("/proc/self/fd");
    auto f = target_fixture::start(transport(), time());
    ASSERT_TRUE(ok(f));
    fx = std::move(f.value());
  }

  void TearDown() override {
    fx.reset();
    // pthread_join returns when the kernel clears the thread's tid, which it does before it
    // reaps the task from /proc: a joined thread can still be listed for a moment (long
    // enough on a loaded machine to fail a test now and then). Wait for the reaping.
    wait_until([&] { return count_entries("/proc/self/task") == threads_before_; });
    EXPECT_EQ(count_entries("/proc/self/task"), threads_before_) << "a thread outlived the target";
    EXPECT_EQ(count_entries("/proc/self/fd"), fds_before_) << "a file descriptor outlived the target";
  }

  uint16_t port() const { return fx->port(); }
  static std::string addr() { return std::string(target_fixture::addr); }

  test_controller_params params(std::string_view subnqn = target_fixture::open_nqn, client_options o = {}) const {
    test_controller_params p;
    p.addr = addr();
    p.port = port();
    p.subnqn = std::string(subnqn);
    p.opts = std::move(o);
    return p;
  }

  // An enabled controller of open_nqn with I/O queue 1.
  result<test_controller> connect_controller(client_options o = {}) const {
    return test_controller::connect(params(target_fixture::open_nqn, std::move(o)));
  }

  // Connects io afresh and as I/O queue 1 of open_nqn's controller cntlid; true if the
  // target accepted it (false while qid 1 is still taken, or on a transport error).
  bool io_queue_1_connects(test_client& io, uint16_t cntlid) const {
    if (!ok(io.connect(addr(), port()))) return false;
    auto r = io.fabrics_connect(target_fixture::open_nqn, 1, 127, cntlid);
    return ok(r) && r->status().ok();
  }

  std::unique_ptr<target_fixture> fx;

 private:
  static int count_entries(const char* dir) {
    int n = 0;
    if (DIR* d = opendir(dir)) {
      while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
      closedir(d);
    }
    return n;
  }

  int threads_before_ = 0;
  int fds_before_ = 0;
};

}  // namespace nvmfd
