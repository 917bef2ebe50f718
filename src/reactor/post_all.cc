#include "reactor/post_all.h"

#include <memory>

#include "reactor/countdown.h"

namespace nvmfd {

void post_all(reactor_pool& pool, std::function<void(reactor&)> each, reactor& home, std::function<void()> done) {
  auto left = std::make_shared<countdown>(pool.size(), home, std::move(done));
  for (unsigned i = 0; i < pool.size(); ++i) {
    reactor& r = pool.at(i);
    r.post([&r, each, left] {
      each(r);
      left->arrive();
    });
  }
}

}  // namespace nvmfd
