#pragma once
// loop_thread: a reactor outside the pool, on a thread of its own: unpinned, epoll, sleeping
// whenever idle (no polling window), and allowed to block (reactor::allow_blocking): code on
// it may wait for the pool's reactors (blocking_call, run_on, connects), which a reactor of
// the pool must never do. nvmfd has one, the RPC thread: the RPC server's sockets, Avahi's
// D-Bus connections (reactor_avahi_poll) and the mDNS discovery's event handling run on it,
// so that a slow handler or a stuck avahi-daemon stalls only the control plane, never I/O.
//
// Threads: loop() may be used from any thread as a reactor is (post from any, the rest on
// its thread). The destructor (or stop()) stops the loop and joins; what is posted before
// that runs, what is posted after is lost, so owners of objects on the loop are gone first.
#include <string>
#include <thread>

#include "reactor/reactor.h"

namespace nvmfd {

class loop_thread {
 public:
  // name: the thread's name (thread_name.h), e.g. "rpc".
  explicit loop_thread(std::string name);
  ~loop_thread();
  loop_thread(const loop_thread&) = delete;
  loop_thread& operator=(const loop_thread&) = delete;

  reactor& loop() { return loop_; }
  // Stops the loop and joins its thread (idempotent). Not from the loop's own thread.
  void stop();

 private:
  reactor loop_;
  std::thread thread_;
};

}  // namespace nvmfd
