#pragma once
// tick_clock: the timestamp of per-I/O accounting (SPDK's spdk_get_ticks), cheap enough to
// read twice per I/O. On x86-64 with an invariant time-stamp counter (CPUID says so; Linux
// then keeps the counters of all CPUs in step) it is one RDTSC, not serialising: a few
// nanoseconds, where a steady_clock read costs about 20. Elsewhere it is the steady clock in
// nanoseconds. Ticks only ever mean something as differences within one process.
//
//   now()   any thread, any time after static initialisation.
//   rate()  ticks per second. The first call measures the counter against the steady clock
//           over calibration_window (it sleeps that long, once per process); later calls
//           return the same value. Call it from a control thread, not a reactor.
//   to_ns() ticks to nanoseconds at rate().
//
// Batch ticks, for per-I/O accounting: reading the counter is cheap, but on the machines we
// measured a read waits for the loads before it, so one between two I/Os' memory copies stops
// them overlapping (a RAM bdev lost a third of its IOPS to two reads per I/O). So per-I/O
// timestamps come from batch_now(): the tick at which this thread's current batch of work
// began, which a reactor stamps with start_batch() at each step of its loop (one event, one
// ring completion, the inbox, one generation of deferred tasks, the timers). A latency is then
// the time between the batches that submitted and completed the I/O: exact to within one
// batch, a few microseconds in a loaded pass, less when the reactor is not busy. On a thread
// that never started a batch, batch_now() is now().
#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace nvmfd::tick_clock {

inline constexpr std::chrono::milliseconds calibration_window{20};

// True when now() reads the time-stamp counter (decided once, at static initialisation).
bool uses_tsc();

namespace detail {
extern const bool tsc;
inline uint64_t steady_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace detail

inline uint64_t now() {
#if defined(__x86_64__)
  if (detail::tsc) return __rdtsc();
#endif
  return detail::steady_ns();
}

uint64_t rate();

namespace detail {
inline thread_local uint64_t batch_ticks = 0;
}
// This thread's batch begins now. Reactor loop only.
inline void start_batch() { detail::batch_ticks = now(); }
// This thread stops stamping batches (a reactor leaving its loop).
inline void end_batches() { detail::batch_ticks = 0; }
inline uint64_t batch_now() {
  uint64_t t = detail::batch_ticks;
  return t ? t : now();
}

inline uint64_t to_ns(uint64_t ticks) {
  return static_cast<uint64_t>(static_cast<double>(ticks) * 1e9 / static_cast<double>(rate()));
}

}  // namespace nvmfd::tick_clock
