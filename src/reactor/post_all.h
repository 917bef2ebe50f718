#pragma once
// post_all: fan-out over a reactor pool, then fan-in. Runs each(r) on every reactor r of the
// pool (each on r's own thread, the reactors in parallel), then done() once on home after the
// last each() has returned. It replaces one run_on per reactor (N blocking round trips) with
// one asynchronous round.
//
// Threads: from any thread, reactors included; done always runs later on home (posted, never
// inline). each is copied to every reactor. Lost, like any post, once the pool has stopped.
#include <functional>

#include "reactor/reactor.h"

namespace nvmfd {

void post_all(reactor_pool& pool, std::function<void(reactor&)> each, reactor& home, std::function<void()> done);

}  // namespace nvmfd
