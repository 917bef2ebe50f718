#pragma once
// control_queue: a serial asynchronous executor, or async mutex, living on one reactor (its
// home). Requests for the turn are granted one at a time in the order they were made (FIFO);
// the turn is a `token`, given back when the token is destroyed or unlock()ed. A holder may
// keep the token across asynchronous steps by moving it into the continuation, which a
// std::mutex cannot do on a reactor; a thread that may block takes it with lock_blocking().
// It replaces a mutex shared by reactors' state machines and blocking threads (the host
// registry's control lock), with no polling and a cancellable wait.
//
//  - acquire(fn), home only: queues fn, which runs on home with the token once every earlier
//    request has been granted and has released. fn never runs inside acquire() or inside a
//    release, always from a task posted for it, so a holder is never re-entered. Returns a
//    ticket for cancel().
//  - cancel(ticket), home only: a request still queued leaves the queue and its fn is
//    destroyed unrun (true). false when it was granted already (its holder releases) or is
//    unknown.
//  - lock_blocking(stop), any thread but home's (the RPC thread, a service's thread, a
//    test's; asserted): waits for the turn and returns the token. With a stop token, gives up
//    as soon as stop is requested and returns an empty token; its request leaves the queue,
//    or, granted meanwhile, is given back at once (a grant that came first is returned). A
//    stop requested before the call returns an empty token without queueing.
//  - token: movable, released exactly once: on home directly, from any other thread by a post
//    to home. unlock() releases early.
//
// Lifetime: the queue's state is shared with the tasks it posts and the tokens it hands out,
// so a token may outlive the queue. The home reactor must run until every token is released
// and every request granted or cancelled (a post after it stopped is lost: a blocked
// lock_blocking would wait for ever).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <source_location>
#include <stop_token>

namespace nvmfd {

class reactor;

class control_queue {
  struct state;

 public:
  using ticket = uint64_t;

  class token {
   public:
    token() = default;
    token(token&& o) noexcept = default;
    token& operator=(token&& o) noexcept;
    ~token() { unlock(); }
    token(const token&) = delete;
    token& operator=(const token&) = delete;

    // True while this token holds the turn.
    explicit operator bool() const { return static_cast<bool>(st_); }
    // Gives the turn back (nothing if empty). Any thread.
    void unlock();

   private:
    friend class control_queue;
    explicit token(std::shared_ptr<state> st) : st_(std::move(st)) {}
    std::shared_ptr<state> st_;
  };

  explicit control_queue(reactor& home);
  control_queue(const control_queue&) = delete;
  control_queue& operator=(const control_queue&) = delete;

  reactor& home() const;

  ticket acquire(std::function<void(token)> fn);
  bool cancel(ticket t);
  token lock_blocking(std::stop_token stop = {}, std::source_location where = std::source_location::current());

  // Requests waiting for the turn (not counting the holder). Any thread; a snapshot, for
  // tests and diagnostics.
  size_t queued() const;

 private:
  std::shared_ptr<state> st_;
};

}  // namespace nvmfd
