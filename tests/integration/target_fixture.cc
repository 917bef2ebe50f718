#include "target_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <fmt/format.h>

#include "base/log.h"
#include "target/tcp/tcp_transport.h"
#include "test_client.h"

namespace nvmfd {

// Bind port 0 on a scratch socket, read the port, close the socket.
result<uint16_t> target_fixture::free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return error::from_errno(errno, "socket");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    int e = errno;
    ::close(fd);
    return error::from_errno(e, "bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

std::vector<std::string> target_fixture::free_ports(size_t n) {
  std::set<uint16_t> ports;
  for (int i = 0; i < 100 && ports.size() < n; ++i)
    if (auto p = free_port()) ports.insert(*p);
  std::vector<std::string> out;
  for (uint16_t p : ports) out.push_back(std::to_string(p));
  return out;
}

tcp_transport_options target_fixture::default_transport() {
  tcp_transport_options o;
  o.max_io_size = 1u << 20;
  o.io_unit_size = 1u << 20;
  return o;
}

target_fixture::target_fixture(const tcp_transport_options& opts) : opts_(opts) {}

target_fixture::~target_fixture() { shutdown(); }

void target_fixture::set_test_log_level() {
  // The target's TermReq and connection logs are expected in these tests; show them only
  // when asked (NVMFD_TEST_LOG=info, debug, ...).
  const char* level = std::getenv("NVMFD_TEST_LOG");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::err);
}

result<std::unique_ptr<target_fixture>> target_fixture::start(const tcp_transport_options& opts, time_source* time) {
  set_test_log_level();
  std::unique_ptr<target_fixture> f(new target_fixture(opts));
  f->reactors_ = std::make_unique<reactor_pool>(2, std::vector<int>{}, poll_settings{}, io_settings{}, time);
  f->target_ = std::make_unique<nvmf_target>(*f->reactors_);
  if (auto r = f->configure(); !r) return r.take_err();
  return f;
}

listen_address target_fixture::listener() const {
  listen_address a;
  a.traddr = std::string(addr);
  a.trsvcid = std::to_string(port_);
  return a;
}

result<std::shared_ptr<ram_bdev>> target_fixture::make_ram_bdev(const std::string& name, uint32_t block_size,
                                                                 uint64_t num_blocks) {
  auto b = ram_bdev::create(name, block_size, num_blocks, std::nullopt);
  if (!b) return b.take_err();
  if (auto r = bdevs_.add(*b); !r) return r.take_err();
  return b;
}

result<void> target_fixture::configure() {
  if (auto r = target_->add_transport(std::make_unique<tcp_transport>(*target_, opts_)); !r) return r;

  auto d512 = make_ram_bdev("ram512", 512, ns_bytes / 512);
  if (!d512) return d512.take_err();
  dev_512_ = *d512;
  auto d4k = make_ram_bdev("ram4k", 4096, ns_bytes / 4096);
  if (!d4k) return d4k.take_err();
  dev_4k_ = *d4k;
  auto acl_dev = make_ram_bdev("ram_acl", 512, (1u << 20) / 512);
  if (!acl_dev) return acl_dev.take_err();

  subsystem_params open;
  open.nqn = std::string(open_nqn);
  open.serial_number = "NVMFDTEST0001";
  open.model_number = "nvmfd integration";
  open.allow_any_host = true;
  open.max_namespaces = max_namespaces;
  if (auto s = target_->create_subsystem(open); !s) return s.take_err();
  if (auto n = target_->add_namespace(open.nqn, {.dev = dev_512_, .nsid = nsid_t{ns_512}}); !n) return n.take_err();
  if (auto n = target_->add_namespace(open.nqn, {.dev = dev_4k_, .nsid = nsid_t{ns_4k}}); !n) return n.take_err();

  subsystem_params acl;
  acl.nqn = std::string(acl_nqn);
  acl.serial_number = "NVMFDTEST0002";
  acl.allow_any_host = false;
  if (auto s = target_->create_subsystem(acl); !s) return s.take_err();
  if (auto r = target_->add_host(acl.nqn, std::string(test_host_nqn)); !r) return r;
  if (auto n = target_->add_namespace(acl.nqn, {.dev = *acl_dev, .nsid = nsid_t{1}}); !n) return n.take_err();

  return listen_on_free_port();
}

result<void> target_fixture::listen_on_free_port() {
  // Another process may take the port between pick_free_port() and bind: try again.
  error last{errc::io_error, "no attempt"};
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto port = free_port();
    if (!port) return port.take_err();
    port_ = *port;
    auto r = target_->add_listener(std::string(open_nqn), listener());
    if (!r) {
      last = r.take_err();
      continue;
    }
    if (auto a = target_->add_listener(std::string(acl_nqn), listener()); !a) return a;
    return target_->add_listener(std::string(discovery_nqn), listener());
  }
  return error{last.code, fmt::format("no free port after 20 attempts: {}", last.message)};
}

void target_fixture::shutdown() {
  if (!target_) return;
  target_->shutdown();
  // Closing a qpair with bdev I/O in flight releases it when the I/O completes, and the
  // release is itself posted: let every reactor run a few passes before the target goes.
  for (int pass = 0; pass < 4; ++pass)
    for (unsigned i = 0; i < reactors_->size(); ++i) reactors_->run_on(i, [] {});
  target_.reset();
  reactors_->stop();
  reactors_.reset();
}

}  // namespace nvmfd
