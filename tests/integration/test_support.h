#pragma once
// Assertion helpers and data patterns shared by the integration tests.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <fmt/format.h>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/nvme_command.h"
#include "reactor/reactor.h"
#include "tests/lib/wait_until.h"
#include "test_client.h"

namespace nvmfd {

inline std::string describe(nvme_status s) {
  return fmt::format("SCT {} SC {:#04x}{}", static_cast<unsigned>(s.sct), s.sc, s.dnr ? " DNR" : "");
}

// The transport worked (no timeout, no protocol error, no close).
template <class T>
::testing::AssertionResult ok(const result<T>& r) {
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << to_string(r.err().code) << ": " << r.err().message;
}

// The transport worked and the command completed with Successful Completion.
inline ::testing::AssertionResult succeeded(const result<command_result>& r) {
  if (!r) return ok(r);
  if (r->status().ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << fmt::format("status {}, dw0 {:#x}", describe(r->status()), r->dw0());
}

// The transport worked and the status has this SCT and SC (DNR and More not compared).
inline ::testing::AssertionResult has_status(const result<command_result>& r, nvme_status want) {
  if (!r) return ok(r);
  const auto got = r->status();
  if (got.sct == want.sct && got.sc == want.sc) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << fmt::format("status {} (dw0 {:#x}), want {}", describe(got), r->dw0(),
                                                      describe(want));
}

// A reproducible pseudo-random pattern (a different seed per write keeps stale data from
// passing for fresh data).
inline std::vector<std::byte> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; i += 4) {
    const uint32_t w = rng();
    for (size_t k = 0; k < 4 && i + k < n; ++k) v[i + k] = static_cast<std::byte>(w >> (8 * k));
  }
  return v;
}

// A barrier: returns once every reactor of pool has run what was posted to it before the
// call, so that what the target handed to its reactors (a namespace or discovery notice)
// has happened. Off reactors (the test thread).
inline void settle(reactor_pool& pool) {
  for (unsigned i = 0; i < pool.size(); ++i) pool.run_on(i, [] {});
}

inline bool all_zero(std::span<const std::byte> data) {
  for (auto b : data)
    if (b != std::byte{0}) return false;
  return true;
}

}  // namespace nvmfd
