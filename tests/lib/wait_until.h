#pragma once
// wait_until: polls a predicate until it holds or a generous timeout has passed, for state
// that changes on a reactor or in a peer without anyone being told (a controller list, a
// free queue ID, a weak_ptr that expires). Where the code signals the event (a completion, a
// PDU, a log line, a held I/O), wait on that instead. The 1 ms pause is the poll period,
// not a guess at how long the event takes: the timeout only bounds a test that would hang.
#include <chrono>
#include <thread>

namespace nvmfd {

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace nvmfd
