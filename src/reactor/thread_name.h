#pragma once
// Thread names: what ps -L, top -H, gdb and /proc/<pid>/task/<tid>/comm show. nvmfd names
// every thread it starts (reactor-N, rpc, and the per-object threads still left: see
// docs/architecture.md "Threading model"), so that a census by name (tests/host/
// thread_budget_test.cc) can tell them apart. A thread inherits its creator's name until it
// names itself.
#include <string>
#include <string_view>
#include <thread>

namespace nvmfd {

// Names the calling thread. Linux keeps at most 15 characters: a longer name is cut.
void set_thread_name(std::string_view name);
// Names thread t from the thread that started it, so that the name is in place when the
// creator goes on (a thread naming itself would show its creator's name for a while).
void set_thread_name(std::thread& t, std::string_view name);
// The calling thread's name.
std::string thread_name();

}  // namespace nvmfd
