#pragma once
// blocking_call: the bridge from a thread that may block (the RPC thread, the main thread
// while it loads the config or shuts down, a test's thread) to asynchronous code on a
// reactor. It posts start(done) to reactor r and waits until the operation calls done with
// its result, which it returns.
//
// Threads: never on r itself (the post would never run; asserted, abort). On another reactor
// it works but stalls that reactor meanwhile: code on reactors uses the asynchronous form.
// Timeout: none by default (the wait lasts as long as the operation); with one, timed_out
// when done has not been called by then. The wait's state is shared with the operation, so a
// late done after a timeout finds it alive and is dropped. Like any post, the call is lost
// (and the wait lasts for ever) once r has stopped: callers finish before the pool stops.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <source_location>
#include <utility>

#include "base/result.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace blocking_call_detail {

template <class T>
struct shared_wait {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<result<T>> out;
};

}  // namespace blocking_call_detail

template <class T, class Start>
  requires std::invocable<Start&, completion<T>>
result<T> blocking_call(reactor& r, Start start, std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                        const char* what = "blocking_call",
                        std::source_location where = std::source_location::current()) {
  assert_not_on(r, what, where);
  auto w = std::make_shared<blocking_call_detail::shared_wait<T>>();
  r.post([w, start = std::move(start)]() mutable {
    start(completion<T>([w](result<T> v) {
      std::lock_guard lk(w->mu);
      w->out.emplace(std::move(v));
      w->cv.notify_all();
    }));
  });
  std::unique_lock lk(w->mu);
  auto arrived = [&] { return w->out.has_value(); };
  if (!timeout)
    w->cv.wait(lk, arrived);
  else if (!w->cv.wait_for(lk, *timeout, arrived))
    return error{errc::timed_out, std::string(what) + " timed out"};
  return std::move(*w->out);
}

}  // namespace nvmfd
