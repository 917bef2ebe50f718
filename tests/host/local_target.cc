#include "local_target.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc/bdev_rpc.h"
#include "rpc/keyring_rpc.h"
#include "rpc/nvmf_auth_rpc.h"
#include "rpc/nvmf_rpc.h"

namespace nvmfd::test {

local_target::local_target(unsigned reactors, poll_settings polling)
    : pool_(reactors, {}, polling), target_(std::make_unique<nvmf_target>(pool_)) {
  target_->set_dhchap_key_resolver(keyring_dhchap_resolver(keyring_));  // DH-HMAC-CHAP keys by name
  add_keyring_methods(methods_, keyring_);
  add_bdev_methods(methods_, bdevs_);
  add_nvmf_methods(methods_, *target_, bdevs_, &keyring_);
  call("nvmf_create_transport", {{"trtype", "TCP"}, {"max_io_size", 1048576}});
  port_ = free_port();
  call("nvmf_subsystem_add_listener",
       {{"nqn", "nqn.2014-08.org.nvmexpress.discovery"},
        {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", port_text()}}}});
}

local_target::~local_target() {
  target_->shutdown();
  target_.reset();
  pool_.stop();
}

json local_target::call(const std::string& method, const json& params) {
  auto* h = methods_.find(method);
  if (!h) {
    ADD_FAILURE() << "no method " << method;
    return nullptr;
  }
  auto r = (*h)(params);
  if (!r) {
    ADD_FAILURE() << method << ": " << r.err().message;
    return nullptr;
  }
  return *r;
}

void local_target::add_subsystem(const std::string& nqn, uint32_t block_size, uint64_t num_blocks,
                                 bool allow_any_host) {
  std::string bdev = "Malloc" + std::to_string(bdev_count_++);
  call("bdev_malloc_create", {{"name", bdev}, {"block_size", block_size}, {"num_blocks", num_blocks}});
  call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", allow_any_host}});
  call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", bdev}}}});
  call("nvmf_subsystem_add_listener",
       {{"nqn", nqn}, {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", port_text()}}}});
}

}  // namespace nvmfd::test
