#pragma once
// Calling a method of a table directly, as the RPC thread would, for the rpc unit tests.
#include <gtest/gtest.h>

#include <string>

#include "rpc/rpc_method_table.h"

namespace nvmfd::test {

// The handler's result; a test failure (and an internal error) if the method is not registered.
inline result<json> call_method(const rpc_method_table& methods, const std::string& m,
                                const json& params) {
  const rpc_handler* h = methods.find(m);
  EXPECT_NE(h, nullptr) << m;
  if (h == nullptr) return error{errc::not_supported, "no method " + m};
  return (*h)(params);
}

// 0 on success, else the JSON-RPC error code the server would answer.
inline int call_code(const rpc_method_table& methods, const std::string& m, const json& params) {
  auto r = call_method(methods, m, params);
  return r.ok() ? 0 : rpc_error_code(r.err());
}

}  // namespace nvmfd::test
