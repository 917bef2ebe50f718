// poll_window with a fake clock: the adaptive window's growth, decay, ceiling and modes.
#include "reactor/poll_window.h"

#include <gtest/gtest.h>

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using tp = poll_window::clock::time_point;

// A fake clock the tests move by hand.
struct fake_clock {
  tp now{};
  tp advance(poll_window::duration d) { return now += d; }
};

poll_settings adaptive(std::chrono::microseconds max) { return {poll_mode::adaptive, max}; }

// A blocking wait of d that ends with (or without) work.
void sleep_for(poll_window& w, fake_clock& c, poll_window::duration d, bool work = true) {
  tp slept = c.now;
  w.after_sleep(slept, c.advance(d), work);
}

// One request-response round: a pass with work, idle polls until `gap` has passed, then
// the next work arrives (a hit) if the window still runs. Returns whether it polled through.
bool polled_through_gap(poll_window& w, fake_clock& c, poll_window::duration gap, poll_window::duration step = 1us) {
  if (!w.keep_polling(c.now, true, false)) {
    // Blocked at once: the next work wakes the reactor after gap.
    tp slept = c.now;
    w.after_sleep(slept, c.advance(gap), true);
    return false;
  }
  for (poll_window::duration spent{0}; spent + step < gap; spent += step) {
    if (!w.keep_polling(c.advance(step), false, false)) {
      tp slept = c.now;
      w.after_sleep(slept, c.advance(gap - spent - step), true);
      return false;
    }
  }
  c.advance(step);
  return true;  // the next pass finds the work
}

TEST(poll_window, starts_closed_so_an_idle_reactor_sleeps_at_once) {
  poll_window w(adaptive(50us));
  fake_clock c;
  EXPECT_EQ(w.window(), 0us);
  EXPECT_FALSE(w.keep_polling(c.now, true, false));
  EXPECT_FALSE(w.keep_polling(c.advance(1us), false, false));
}

TEST(poll_window, work_soon_after_a_sleep_opens_the_window_to_twice_the_sleep) {
  poll_window w(adaptive(50us));
  fake_clock c;
  sleep_for(w, c, 10us);
  EXPECT_EQ(w.window(), 20us);
  // Now work is followed by polling for 20 us.
  EXPECT_TRUE(w.keep_polling(c.now, true, false));
  EXPECT_TRUE(w.keep_polling(c.advance(19us), false, false));
  EXPECT_FALSE(w.keep_polling(c.advance(2us), false, false));
}

TEST(poll_window, a_sleep_longer_than_the_ceiling_does_not_open_it) {
  poll_window w(adaptive(50us));
  fake_clock c;
  sleep_for(w, c, 5s, true);  // Keep Alive every few seconds
  EXPECT_EQ(w.window(), 0us);
  sleep_for(w, c, 50us, true);  // exactly the ceiling: polling would not have paid
  EXPECT_EQ(w.window(), 0us);
}

TEST(poll_window, a_wake_up_without_work_changes_nothing) {
  poll_window w(adaptive(50us));
  fake_clock c;
  sleep_for(w, c, 3us, false);
  EXPECT_EQ(w.window(), 0us);
}

TEST(poll_window, hits_grow_the_window_up_to_the_ceiling_and_no_further) {
  poll_window w(adaptive(64us));
  fake_clock c;
  sleep_for(w, c, 2us, true);  // window 4 us
  ASSERT_EQ(w.window(), 4us);
  // Requests 3 us apart: every gap is polled through, and each hit doubles the window.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(polled_through_gap(w, c, 3us));
  EXPECT_EQ(w.window(), 64us);
}

TEST(poll_window, steady_load_with_gaps_below_the_ceiling_is_polled_through) {
  poll_window w(adaptive(50us));
  fake_clock c;
  int slept = 0;
  for (int i = 0; i < 100; ++i) slept += !polled_through_gap(w, c, 20us);
  // Only the first gaps sleep (the window learns the gap), then every one is polled.
  EXPECT_LE(slept, 2);
  EXPECT_GE(w.window(), 20us);
}

TEST(poll_window, gaps_longer_than_the_ceiling_always_sleep_and_never_poll) {
  poll_window w(adaptive(50us));
  fake_clock c;
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(polled_through_gap(w, c, 80us));
  EXPECT_EQ(w.window(), 0us);
}

TEST(poll_window, misses_halve_the_window_until_it_closes) {
  poll_window w(adaptive(64us));
  fake_clock c;
  sleep_for(w, c, 32us, true);
  ASSERT_EQ(w.window(), 64us);
  std::vector<poll_window::duration> seen;
  for (int i = 0; i < 8 && w.window() > 0us; ++i) {
    // Work, then nothing: poll the whole window, then block.
    ASSERT_TRUE(w.keep_polling(c.now, true, false));
    while (w.keep_polling(c.advance(1us), false, false)) {
    }
    seen.push_back(w.window());
  }
  std::vector<poll_window::duration> want{32us, 16us, 8us, 4us, 2us, 0us};
  EXPECT_EQ(seen, want);
}

TEST(poll_window, busy_passes_neither_grow_nor_shrink) {
  poll_window w(adaptive(50us));
  fake_clock c;
  sleep_for(w, c, 5us, true);
  auto before = w.window();
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(w.keep_polling(c.advance(1us), true, false));
  EXPECT_EQ(w.window(), before);
}

TEST(poll_window, outstanding_work_polls_briefly_even_when_the_window_is_closed) {
  poll_window w(adaptive(50us));
  fake_clock c;
  ASSERT_EQ(w.window(), 0us);
  EXPECT_TRUE(w.keep_polling(c.now, true, true));
  EXPECT_TRUE(w.keep_polling(c.advance(1us), false, true));
  EXPECT_FALSE(w.keep_polling(c.advance(poll_window::min_step), false, true));
  // Without outstanding work it would not have polled at all.
  EXPECT_FALSE(w.keep_polling(c.advance(1us), true, false));
}

TEST(poll_window, event_mode_never_polls_and_always_mode_never_sleeps) {
  fake_clock c;
  poll_window ev({poll_mode::event, 50us});
  sleep_for(ev, c, 1us, true);
  EXPECT_FALSE(ev.keep_polling(c.now, true, true));
  EXPECT_EQ(ev.window(), 0us);
  poll_window al({poll_mode::always, 50us});
  EXPECT_TRUE(al.keep_polling(c.advance(1h), false, false));
  EXPECT_TRUE(al.keep_polling(c.advance(1h), false, false));
}

TEST(poll_window, lowering_the_ceiling_clamps_the_window) {
  poll_window w(adaptive(50us));
  fake_clock c;
  sleep_for(w, c, 20us, true);
  ASSERT_EQ(w.window(), 40us);
  w.set(adaptive(10us));
  EXPECT_EQ(w.window(), 10us);
  w.set({poll_mode::event, 10us});
  EXPECT_EQ(w.window(), 0us);
}

TEST(poll_window, a_zero_ceiling_is_event_mode_in_effect) {
  poll_window w(adaptive(0us));
  fake_clock c;
  sleep_for(w, c, 1us, false);
  sleep_for(w, c, 1us, true);
  EXPECT_EQ(w.window(), 0us);
  EXPECT_FALSE(w.keep_polling(c.now, true, true));
}

TEST(poll_mode, names_round_trip) {
  for (auto m : {poll_mode::adaptive, poll_mode::event, poll_mode::always})
    EXPECT_EQ(parse_poll_mode(to_string(m)), m);
  EXPECT_FALSE(parse_poll_mode("busy"));
  EXPECT_FALSE(parse_poll_mode(""));
}

}  // namespace
}  // namespace nvmfd
