#include "reactor/loop_thread.h"

#include "reactor/reactor_assert.h"
#include "reactor/thread_name.h"

namespace nvmfd {

namespace {
poll_settings never_polls() {
  poll_settings s;
  s.mode = poll_mode::event;
  return s;
}
io_settings epoll_only() {
  io_settings io;
  io.backend = io_backend::epoll;
  return io;
}
}  // namespace

loop_thread::loop_thread(std::string name) : loop_(0, std::nullopt, never_polls(), epoll_only()) {
  loop_.allow_blocking();
  thread_ = std::thread([this] { loop_.run(); });
  set_thread_name(thread_, name);
}

loop_thread::~loop_thread() { stop(); }

void loop_thread::stop() {
  if (!thread_.joinable()) return;
  assert_not_on(loop_, "loop_thread::stop");
  loop_.stop();
  thread_.join();
}

}  // namespace nvmfd
