#pragma once
// poll_window: when a reactor should keep polling instead of sleeping (adaptive polling).
//
// Sleeping in epoll_wait after every event costs each request the wake-up of an idle CPU
// (several microseconds on a VM); polling forever (SPDK) costs a whole core even when idle.
// After work, a reactor polls for a window before it blocks. The window adapts:
//  - a poll that finds work (a hit) doubles it, up to the ceiling (max_poll);
//  - a window that runs out with nothing found (a miss) halves it, to zero below min_step;
//  - waking from a sleep with work sooner than the ceiling (the window was too short to
//    see it coming) widens it to twice that sleep;
//  - work outstanding (a host waiting for completions) polls for at least min_step.
// An idle reactor therefore decays to a window of zero and sleeps at once; one under load
// polls between requests. poll_mode::event never polls, poll_mode::always never sleeps.
//
// Pure logic: every call takes the time, so tests drive it with a fake clock. One reactor
// thread uses an instance; settings are copied in (reactor::set_poll_settings).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nvmfd {

enum class poll_mode : uint8_t {
  adaptive,  // poll for a window that follows the load (default)
  event,     // never poll: block after every pass (interrupt mode)
  always,    // never block (SPDK's busy polling: a core at 100%)
};

std::string_view to_string(poll_mode m);
std::optional<poll_mode> parse_poll_mode(std::string_view s);

struct poll_settings {
  poll_mode mode = poll_mode::adaptive;
  std::chrono::microseconds max_poll{50};  // the window's ceiling (adaptive mode)
};

class poll_window {
 public:
  using clock = std::chrono::steady_clock;
  using duration = clock::duration;
  static constexpr duration min_step = std::chrono::microseconds(2);

  explicit poll_window(poll_settings s = {}) : settings_(s) {}

  void set(poll_settings s);
  const poll_settings& settings() const { return settings_; }
  duration window() const { return window_; }

  // After a loop pass at `now`: did_work is true when the pass handled an event, a task
  // or a timer; pending is true while work is outstanding elsewhere (commands sent and
  // not yet completed). Returns true to poll again, false to block.
  bool keep_polling(clock::time_point now, bool did_work, bool pending);
  // After a blocking wait from slept_at to woke_at; did_work as above.
  void after_sleep(clock::time_point slept_at, clock::time_point woke_at, bool did_work);

 private:
  void grow_to(duration d);
  void shrink();

  poll_settings settings_;
  duration window_{0};
  clock::time_point last_work_{};
  bool polling_ = false;      // in a window that has not ended yet
  bool idle_polls_ = false;   // the window has had passes without work
};

}  // namespace nvmfd
