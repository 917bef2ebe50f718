#pragma once
// host_side: the host half of an in-process test: a reactor pool (in the bdev harness), a bdev
// registry, the bdev_nvme controller registry and the bdev/bdev_nvme RPC methods over them.
// Members are destroyed registry first, pool last.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "../unit/bdev/bdev_harness.h"
#include "host/nvme_controller_registry.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/bdev_rpc.h"

namespace nvmfd::test {

struct host_side {
  explicit host_side(unsigned reactors = 2) : h(reactors), controllers(h.pool(), bdevs) {
    add_bdev_methods(methods, bdevs);
    add_bdev_nvme_methods(methods, controllers, nullptr, &keyring);
  }
  result<json> call(const std::string& method, const json& params) { return (*methods.find(method))(params); }
  // Calls a method that must succeed (a test failure otherwise; returns null then).
  json ok(const std::string& method, const json& params) {
    auto r = call(method, params);
    EXPECT_TRUE(r.ok()) << method << " " << params.dump() << ": " << (r ? "" : r.err().message);
    return r ? *r : json();
  }
  bdev& dev(const std::string& name) {
    auto b = bdevs.find(name);
    if (!b) throw std::runtime_error("no bdev " + name);
    return *b;
  }

  bdev_harness h;
  keys::keyring keyring;  // for dhchap_key names
  bdev_registry bdevs;
  nvme_controller_registry controllers;
  rpc_method_table methods;
};

}  // namespace nvmfd::test
