#pragma once
// rpc_target: a bare nvmfd target in the test process (2 reactors; no transport, bdev or
// subsystem until asked), configured only through the JSON-RPC handlers the daemon
// registers (keyring, bdev and nvmf methods) and loaded from, or saved to, a config with the
// daemon's config loader. It is what apps/nvmfd builds, minus the RPC socket.
//
// The test thread is the control thread. The destructor shuts the target down (closing
// its listeners and connections) and joins the reactors.
#include <memory>
#include <string>

#include "base/result.h"
#include "bdev/bdev_registry.h"
#include "keys/keyring.h"
#include "reactor/reactor.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd {

class rpc_target {
 public:
  rpc_target();
  ~rpc_target();
  rpc_target(const rpc_target&) = delete;
  rpc_target& operator=(const rpc_target&) = delete;

  // Runs one method's handler: its result, or its error (errc and message) as the JSON-RPC
  // server would map it. An unknown method is errc::not_supported.
  result<json> call(const std::string& method, const json& params = json::object());
  // load_config() with the daemon's options.
  result<void> load(const json& config);
  // save_config(): what `nvmfctl save_config` prints.
  json save() const;
  nvmf_target& target() { return *target_; }
  keys::keyring& keyring() { return keyring_; }

 private:
  reactor_pool reactors_;
  keys::keyring keyring_;  // outlives the target, which resolves DH-HMAC-CHAP key names in it
  std::unique_ptr<nvmf_target> target_;
  bdev_registry bdevs_;
  rpc_method_table methods_;
};

}  // namespace nvmfd
