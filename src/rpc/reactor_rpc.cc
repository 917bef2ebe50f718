#include "rpc/reactor_rpc.h"

#include <unistd.h>

#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

constexpr uint64_t max_poll_us_limit = 1'000'000;

json reactor_json(const reactor& r, const poll_settings& s) {
  const auto& c = r.counters();
  auto idle = c.slept_ns();
  return {{"lcore", r.cpu().value_or(static_cast<int>(r.index()))},
          {"busy", c.busy_ns()},
          {"idle", idle},
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
