#pragma once
// target_fixture: a whole nvmfd target inside the test process, on 127.0.0.1 and an
// ephemeral port: two reactors, the TCP transport, and
//   - open_nqn: any host may connect; nsid 1 = 16 MiB of 512-byte blocks,
//     nsid 2 = 16 MiB of 4096-byte blocks (both RAM);
//   - acl_nqn: only test_host_nqn (test_client.h) may connect; nsid 1 = 1 MiB RAM;
//   - the discovery subsystem, on the same address and port.
//
// The test thread is the control thread: it may call target() methods directly.
// shutdown() (also run by the destructor) closes every connection, waits until the
// reactors have released them, destroys the target and joins the reactor threads, so a
// test leaves no thread or file descriptor behind.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "bdev/bdev_registry.h"
#include "bdev/ram_bdev.h"
#include "reactor/reactor.h"
#include "target/nvmf_target.h"
#include "target/tcp/tcp_transport_options.h"

namespace nvmfd {

class target_fixture {
 public:
  static constexpr std::string_view addr = "127.0.0.1";
  static constexpr std::string_view open_nqn = "nqn.2014-08.io.nvmfd.test:open";
  static constexpr std::string_view acl_nqn = "nqn.2014-08.io.nvmfd.test:acl";
  static constexpr std::string_view other_host_nqn = "nqn.2014-08.io.nvmfd.test:host-b";
  static constexpr uint32_t ns_512 = 1;    // in open_nqn
  static constexpr uint32_t ns_4k = 2;     // in open_nqn
  static constexpr uint64_t ns_bytes = 16u << 20;
  static constexpr uint32_t max_namespaces = 32;

  // The transport the tests use: 1 MiB max_io_size (so a big write takes several
  // H2CData PDUs of MAXH2CDATA), default queue depths and in-capsule size.
  static tcp_transport_options default_transport();

  // Starts reactors, target, bdevs, subsystems and listeners. Fails with the first error.
  // time: the reactors' clock (a manual_time in tests that move time themselves); null for
  // the steady clock. It must outlive the fixture.
  static result<std::unique_ptr<target_fixture>> start(const tcp_transport_options& opts = default_transport(),
                                                       time_source* time = nullptr);
  ~target_fixture();
  target_fixture(const target_fixture&) = delete;
  target_fixture& operator=(const target_fixture&) = delete;

  nvmf_target& target() { return *target_; }
  bdev_registry& bdevs() { return bdevs_; }
  uint16_t port() const { return port_; }
  listen_address listener() const;
  const tcp_transport_options& transport() const { return opts_; }
  const std::shared_ptr<ram_bdev>& ns_dev(uint32_t nsid) const { return nsid == ns_4k ? dev_4k_ : dev_512_; }

  // A RAM bdev registered in bdevs() (not attached to any subsystem).
  result<std::shared_ptr<ram_bdev>> make_ram_bdev(const std::string& name, uint32_t block_size, uint64_t num_blocks);
  // A TCP port on 127.0.0.1 that was free a moment ago.
  static result<uint16_t> free_port();
  // n distinct such ports, as text (fewer if the system has none free).
  static std::vector<std::string> free_ports(size_t n);
  // The target's log level for tests: errors only, unless NVMFD_TEST_LOG names another.
  static void set_test_log_level();
  // Idempotent; see the header comment.
  void shutdown();

 private:
  explicit target_fixture(const tcp_transport_options& opts);
  result<void> configure();
  result<void> listen_on_free_port();

  tcp_transport_options opts_;
  std::unique_ptr<reactor_pool> reactors_;
  std::unique_ptr<nvmf_target> target_;
  bdev_registry bdevs_;
  std::shared_ptr<ram_bdev> dev_512_, dev_4k_;
  uint16_t port_ = 0;
};

}  // namespace nvmfd
