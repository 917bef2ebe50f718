#include "reactor/poll_window.h"

#include <algorithm>

namespace nvmfd {

std::string_view to_string(poll_mode m) {
  switch (m) {
    case poll_mode::adaptive: return "adaptive";
    case poll_mode::event: return "event";
    case poll_mode::always: return "always";
  }
  return "adaptive";
}

std::optional<poll_mode> parse_poll_mode(std::string_view s) {
  if (s == "adaptive") return poll_mode::adaptive;
  if (s == "event") return poll_mode::event;
  if (s == "always") return poll_mode::always;
  return std::nullopt;
}

void poll_window::set(poll_settings s) {
  settings_ = s;
  window_ = std::min<duration>(window_, settings_.max_poll);
  if (settings_.mode != poll_mode::adaptive) window_ = duration::zero();
}

void poll_window::grow_to(duration d) {
  duration ceiling = settings_.max_poll;
  window_ = std::min<duration>(ceiling, std::max({d, window_, min_step}));
}

void poll_window::shrink() {
  window_ /= 2;
  if (window_ < min_step) window_ = duration::zero();
}

bool poll_window::keep_polling(clock::time_point now, bool did_work, bool pending) {
  switch (settings_.mode) {
    case poll_mode::always: return true;
    case poll_mode::event: return false;
    case poll_mode::adaptive: break;
  }
  if (did_work) {
    // Work found by a pass that followed idle polls: polling paid off, widen the window.
    if (polling_ && idle_polls_) grow_to(window_ * 2);
    last_work_ = now;
    polling_ = true;
    idle_polls_ = false;
  } else {
    idle_polls_ = true;
  }
  duration limit = pending ? std::max<duration>(window_, std::min<duration>(min_step, settings_.max_poll)) : window_;
  if (polling_ && now - last_work_ < limit) return true;
  // The window ran out (or was zero): a miss if it was spent polling for nothing.
  if (polling_ && idle_polls_) shrink();
  polling_ = false;
  idle_polls_ = false;
  return false;
}

void poll_window::after_sleep(clock::time_point slept_at, clock::time_point woke_at, bool did_work) {
  if (settings_.mode != poll_mode::adaptive || !did_work) return;
  duration slept = woke_at - slept_at;
  // Work that came sooner than the ceiling would have been seen by a wider window.
  if (slept < settings_.max_poll) grow_to(slept * 2);
}

}  // namespace nvmfd
