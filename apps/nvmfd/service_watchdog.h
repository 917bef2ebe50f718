#pragma once
// service_watchdog: systemd's watchdog pings (WATCHDOG=1) that prove the daemon can still do
// work. Each interval, a timer on the home reactor (nvmfd: the pool's control reactor) sends a
// no-op round to every reactor of the pool (post_all); only when all of them have run it does
// it ping. So a stuck reactor stops the pings, and systemd restarts the service after
// WatchdogSec. A round still out when the next tick comes is not doubled. (Not the RPC thread:
// its handlers may block for minutes by design, which must not get the daemon killed.)
//
// Threads: construct, stop and destroy off the home loop (they wait for it with
// blocking_call); the timer and the rounds run on home. stop() before the pool or home stop.
#include <chrono>
#include <functional>
#include <memory>

#include "reactor/reactor.h"

namespace nvmfd {

class service_watchdog {
 public:
  // Starts ticking at once; ping is called on home after each complete round.
  service_watchdog(reactor_pool& pool, reactor& home, std::chrono::microseconds interval,
                   std::function<void()> ping);
  ~service_watchdog();
  service_watchdog(const service_watchdog&) = delete;
  service_watchdog& operator=(const service_watchdog&) = delete;

  void stop();  // idempotent: no tick or ping after it returns

 private:
  struct state;
  static void arm(const std::shared_ptr<state>& s);
  static void tick(const std::shared_ptr<state>& s);
  std::shared_ptr<state> state_;
};

}  // namespace nvmfd
