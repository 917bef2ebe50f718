#pragma once
// countdown: fan-in. Created for n arrivals; the last arrive() (from any thread) posts done
// to the home reactor, where it runs once. Never inline: done runs through post even when
// the last arrival is on home. With n == 0, done is posted at construction.
//
// Shared by the parties that arrive (std::make_shared), so that it lives until the last.
#include <atomic>
#include <functional>

#include "reactor/reactor.h"

namespace nvmfd {

class countdown {
 public:
  countdown(unsigned n, reactor& home, std::function<void()> done);
  countdown(const countdown&) = delete;
  countdown& operator=(const countdown&) = delete;

  void arrive();

 private:
  std::atomic<unsigned> left_;
  reactor& home_;
  std::function<void()> done_;
};

}  // namespace nvmfd
