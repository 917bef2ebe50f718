#include "reactor/thread_name.h"

#include <pthread.h>

#include <algorithm>

namespace nvmfd {

namespace {
constexpr std::size_t max_name_len = 15;  // TASK_COMM_LEN - 1

void name_thread(pthread_t t, std::string_view name) {
  char buf[max_name_len + 1] = {};
  name.copy(buf, std::min(name.size(), max_name_len));
  pthread_setname_np(t, buf);
}

}  // namespace

void set_thread_name(std::string_view name) { name_thread(pthread_self(), name); }

void set_thread_name(std::thread& t, std::string_view name) { name_thread(t.native_handle(), name); }

std::string thread_name() {
  char buf[max_name_len + 1] = {};
  if (pthread_getname_np(pthread_self(), buf, sizeof(buf)) != 0) return {};
  return buf;
}

}  // namespace nvmfd
