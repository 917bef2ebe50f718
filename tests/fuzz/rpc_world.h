#pragma once
// rpc_world: nvmfd's RPC method table over an in-process target, for the JSON-RPC and config
// fuzzers (test code only). One reactor pool per process; everything else (target, block
// devices, logical volumes, the table) is made per input and torn down after it, so that
// inputs do not see each other's state and libFuzzer's leak check stays meaningful.
//
// The table is nvmfd's (apps/nvmfd/main.cc) less what reaches outside the process or the
// input: bdev_nvme (connects to fuzzed addresses), mDNS (avahi-daemon), CDC, the reactor
// methods (a fuzzed poll mode would change the shared pool) and bdev_aio_create (opens fuzzed
// paths), which answers "not available in the fuzzer". Listeners the input adds do listen
// (on the addresses it names) until the world is torn down.
#include <memory>

#include "bdev/bdev_registry.h"
#include "bdev/lvol/lvol_manager.h"
#include "reactor/reactor.h"
#include "rpc/bdev_rpc.h"
#include "rpc/framework_methods.h"
#include "rpc/lvol_rpc.h"
#include "rpc/nvmf_rpc.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd::fuzz {

inline reactor_pool& rpc_fuzz_pool() {
  static reactor_pool pool(1);
  return pool;
}

class rpc_world {
 public:
  rpc_world() : target_(rpc_fuzz_pool()), lvols_(rpc_fuzz_pool(), bdevs_) {
    add_framework_methods(methods_);
    add_bdev_methods(methods_, bdevs_);
    add_lvol_methods(methods_, lvols_);
    add_nvmf_methods(methods_, target_, bdevs_);
    methods_.add("bdev_aio_create", [](const json&) -> result<json> {
      return error{errc::not_supported, "bdev_aio_create is not available in the fuzzer"};
    });
  }
  ~rpc_world() { target_.shutdown(); }
  rpc_world(const rpc_world&) = delete;
  rpc_world& operator=(const rpc_world&) = delete;

  rpc_method_table& methods() { return methods_; }

 private:
  nvmf_target target_;
  bdev_registry bdevs_;
  lvol::lvol_manager lvols_;
  rpc_method_table methods_;
};

}  // namespace nvmfd::fuzz
