#pragma once
// local_target: an nvmfd target in the test process, on 127.0.0.1 and an ephemeral port,
// configured through the same RPC handlers the daemon uses (so tests read like configs).
#include <memory>
#include <string>

#include "bdev/bdev_registry.h"
#include "free_port.h"
#include "keys/keyring.h"
#include "reactor/reactor.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd::test {

class local_target {
 public:
  explicit local_target(unsigned reactors = 2, poll_settings polling = {});
  ~local_target();

  // Calls an RPC method; fails the test (ADD_FAILURE) and returns null on error.
  json call(const std::string& method, const json& params);
  // Creates a subsystem with a RAM namespace of the given geometry, listening on port().
  void add_subsystem(const std::string& nqn, uint32_t block_size = 512, uint64_t num_blocks = 32768,
                     bool allow_any_host = true);
  uint16_t port() const { return port_; }
  std::string port_text() const { return std::to_string(port_); }
  nvmf_target& target() { return *target_; }
  bdev_registry& bdevs() { return bdevs_; }
  rpc_method_table& methods() { return methods_; }
  reactor_pool& pool() { return pool_; }
  // Its keyring (keyring_file_add_key), where nvmf_subsystem_add_host looks up "psk" names
  // and the target DH-HMAC-CHAP key names.
  keys::keyring& keyring() { return keyring_; }

 private:
  keys::keyring keyring_;  // outlives the methods that name its keys
  reactor_pool pool_;
  std::unique_ptr<nvmf_target> target_;
  bdev_registry bdevs_;
  rpc_method_table methods_;
  uint16_t port_ = 0;
  int bdev_count_ = 0;
};


}  // namespace nvmfd::test
