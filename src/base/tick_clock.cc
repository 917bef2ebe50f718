#include "base/tick_clock.h"

#include <thread>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace nvmfd::tick_clock {

namespace {

bool invariant_tsc() {
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
  __get_cpuid(0x80000007u, &a, &b, &c, &d);
  return (d & (1u << 8)) != 0;  // "invariant TSC": constant rate, runs in every C- and P-state
#else
  return false;
#endif
}

uint64_t measure_rate() {
  if (!detail::tsc) return 1'000'000'000;
  // Each end reads the counter between two steady-clock reads and takes their midpoint, so
  // that being descheduled at the wrong moment costs little; the window makes the rest small
  // (a 100 ns error over 20 ms is 5 parts per million).
  auto sample = [] {
    uint64_t t0 = detail::steady_ns();
    uint64_t tsc = now();
    uint64_t t1 = detail::steady_ns();
    return std::pair{tsc, t0 + (t1 - t0) / 2};
  };
  auto [tsc0, ns0] = sample();
  std::this_thread::sleep_for(calibration_window);
  auto [tsc1, ns1] = sample();
  return static_cast<uint64_t>(static_cast<double>(tsc1 - tsc0) * 1e9 / static_cast<double>(ns1 - ns0));
}

}  // namespace

namespace detail {
const bool tsc = invariant_tsc();
}

bool uses_tsc() { return detail::tsc; }

uint64_t rate() {
  static const uint64_t r = measure_rate();
  return r;
}

}  // namespace nvmfd::tick_clock
