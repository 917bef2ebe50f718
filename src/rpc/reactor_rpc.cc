#include "rpc/reactor_rpc.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "reactor/blocking_call.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

constexpr uint64_t max_poll_us_limit = 1'000'000;

// utime and stime of a thread, in clock ticks (proc(5)); zeros when unreadable.
std::pair<uint64_t, uint64_t> thread_cpu_ticks(int tid) {
  std::ifstream f(fmt::format("/proc/self/task/{}/stat", tid));
  std::string line;
  if (tid <= 0 || !std::getline(f, line)) return {0, 0};
  auto close = line.rfind(')');  // the name may hold spaces: fields count from after it
  if (close == std::string::npos) return {0, 0};
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return {utime, stime};
}

json reactor_json(reactor& r, const poll_settings& s) {
  const auto& c = r.counters();
  auto idle = c.slept_ns();
  auto busy = c.busy_ns();
  int lcore = r.cpu().value_or(static_cast<int>(r.index()));
  // SPDK's lightweight threads on the reactor: nvmfd runs one, the reactor's poll group.
  json thread = {{"name", fmt::format("nvmf_tgt_poll_group_{:03}", r.index())},
                 {"id", r.index() + 1},
                 {"cpumask", fmt::format("{:x}", uint64_t{1} << (lcore % 64))},
                 {"elapsed", busy + idle}};
  int tid = c.tid.load(std::memory_order_relaxed);
  if (tid == 0) {  // the loop has not run yet (just started): a round trip through it sets it
    (void)blocking_call<void>(r, [](completion<void> done) { done(success()); }, std::chrono::milliseconds(1000),
                              "framework_get_reactors");
    tid = c.tid.load(std::memory_order_relaxed);
  }
  auto [usr, sys] = thread_cpu_ticks(tid);
  return {{"lcore", lcore},
          {"numa_id", -1},
          {"tid", tid},
          {"busy", busy},
          {"idle", idle},
          {"irq", 0},
          {"sys", sys},
          {"usr", usr},
          {"lw_threads", json::array({thread})},
          {"in_interrupt", s.mode == poll_mode::event},
          {"io_backend", to_string(r.backend())},
          {"poll_mode", to_string(s.mode)},
          {"poll_window_us", c.window_ns.load(std::memory_order_relaxed) / 1000.0},
          {"passes", c.passes.load(std::memory_order_relaxed)},
          {"sleeps", c.sleeps.load(std::memory_order_relaxed)}};
}

result<json> get_reactors(reactor_pool& pool, const json& params) {
  param_reader p(params);
  if (auto r = p.finish(); !r) return r.take_err();
  json list = json::array();
  auto s = pool.get_poll_settings();
  for (unsigned i = 0; i < pool.size(); ++i) list.push_back(reactor_json(pool.at(i), s));
  return json{{"tick_rate", 1'000'000'000}, {"pid", getpid()}, {"reactors", std::move(list)}};
}

json settings_json(const poll_settings& s) {
  return {{"mode", to_string(s.mode)}, {"max_poll_us", s.max_poll.count()}};
}

result<json> set_poll_mode(reactor_pool& pool, const json& params) {
  param_reader p(params);
  auto mode = p.optional_enum("mode", {"adaptive", "event", "always"});
  auto max_us = p.optional_uint("max_poll_us", max_poll_us_limit);
  if (auto r = p.finish(); !r) return r.take_err();
  auto s = pool.get_poll_settings();
  if (mode) s.mode = *parse_poll_mode(*mode);
  if (max_us) s.max_poll = std::chrono::microseconds(*max_us);
  pool.set_poll_settings(s);
  return json(true);
}

result<json> get_poll_mode(reactor_pool& pool, const json& params) {
  param_reader p(params);
  if (auto r = p.finish(); !r) return r.take_err();
  return settings_json(pool.get_poll_settings());
}

}  // namespace

void add_reactor_methods(rpc_method_table& m, reactor_pool& pool) {
  m.add("framework_get_reactors", [&pool](const json& p) { return get_reactors(pool, p); });
  m.add("framework_set_poll_mode", [&pool](const json& p) { return set_poll_mode(pool, p); });
  m.add("framework_get_poll_mode", [&pool](const json& p) { return get_poll_mode(pool, p); });
  m.add_config_section({"scheduler", {}, [&pool] {
                          json calls = json::array();
                          auto s = pool.get_poll_settings();
                          poll_settings def;
                          if (s.mode != def.mode || s.max_poll != def.max_poll)
                            calls.push_back({{"method", "framework_set_poll_mode"}, {"params", settings_json(s)}});
                          return calls;
                        }});
}

}  // namespace nvmfd
