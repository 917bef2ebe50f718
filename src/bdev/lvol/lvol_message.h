#pragma once
// send_message: how the lvol data path hands a waiter's request to the store's home reactor
// and the answer back to the I/O's reactor: reactor::post of a task the waiter carries, so
// nothing is allocated. A reactor refuses only once its loop has ended (the pool is stopping
// with I/O still in flight): the message is dropped and logged, and that I/O never completes,
// as nothing would run it.
#include "base/log.h"
#include "reactor/reactor.h"

namespace nvmfd::lvol {

inline void send_message(reactor& to, deferred_task& t) {
  if (!to.post(t)) NVMFD_LOG_WARN("lvol: reactor {} has stopped; an I/O in flight is dropped", to.index());
}

}  // namespace nvmfd::lvol
