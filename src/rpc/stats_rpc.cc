#include "rpc/stats_rpc.h"

#include <fmt/format.h>

#include "base/tick_clock.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

void put_op(json& j, const char* bytes_key, const char* ops_key, const char* lat, const bdev_op_totals& t) {
  if (bytes_key) j[bytes_key] = t.bytes;
  j[ops_key] = t.ops;
  j[fmt::format("{}_latency_ticks", lat)] = t.latency_ticks;
  j[fmt::format("max_{}_latency_ticks", lat)] = t.max_latency_ticks;
  j[fmt::format("min_{}_latency_ticks", lat)] = t.min_latency_ticks;
}

// SPDK's field order: bytes and ops of each op, then the latencies of each.
json totals_json(const bdev_io_totals& t) {
  json j = json::object();
  j["bytes_read"] = t.read.bytes;
  j["num_read_ops"] = t.read.ops;
  j["bytes_written"] = t.write.bytes;
  j["num_write_ops"] = t.write.ops;
  j["bytes_unmapped"] = t.unmap.bytes;
  j["num_unmap_ops"] = t.unmap.ops;
  j["bytes_copied"] = 0;
  j["num_copy_ops"] = 0;
  put_op(j, nullptr, "num_read_ops", "read", t.read);
  put_op(j, nullptr, "num_write_ops", "write", t.write);
  put_op(j, nullptr, "num_unmap_ops", "unmap", t.unmap);
  put_op(j, nullptr, "num_copy_ops", "copy", bdev_op_totals{});
  j["io_error"] = json::object();
  put_op(j, nullptr, "num_flush_ops", "flush", t.flush);
  put_op(j, "bytes_zeroed", "num_write_zeroes_ops", "write_zeroes", t.write_zeroes);
  j["num_io_errors"] = t.errors;
  return j;
}

result<json> get_iostat(reactor_pool& pool, bdev_registry& reg, const json& params) {
  param_reader p(params);
  auto names = p.optional_string_array("names");
  bool per_channel = p.optional_bool("per_channel").value_or(false);
  auto mode = p.optional_enum("reset_mode", {"all", "maxmin", "error", "none"}).value_or("none");
  if (auto r = p.finish(); !r) return r.take_err();
  std::vector<std::shared_ptr<bdev>> bdevs;
  if (!names) bdevs = reg.list();
  for (const auto& n : names.value_or(std::vector<std::string>{})) {
    auto b = reg.find(n);
    if (!b) return error{errc::not_found, fmt::format("bdev {} not found", n)};
    bdevs.push_back(std::move(b));
  }
  json out = {{"tick_rate", tick_clock::rate()}, {"ticks", tick_clock::now()}};
  if (per_channel) {
    if (bdevs.size() != 1) return error{errc::invalid_argument, "per_channel: names must name exactly one bdev"};
    json channels = json::array();
    for (unsigned r = 0; r < bdev_io_stats::max_slots; ++r)
      if (auto s = bdevs[0]->io_stats().slot(r)) {
        json c = {{"thread_id", r}};
        c.update(totals_json(*s));
        channels.push_back(std::move(c));
      }
    out["name"] = bdevs[0]->name();
    out["channels"] = std::move(channels);
  } else {
    json list = json::array();
    for (auto& b : bdevs) {
      json j = {{"name", b->name()}};
      j.update(totals_json(b->io_stats().sum()));
      list.push_back(std::move(j));
    }
    out["bdevs"] = std::move(list);
  }
  if (mode != "none") {
    auto how = mode == "all" ? stats_reset::all : mode == "maxmin" ? stats_reset::maxmin : stats_reset::error;
    for (unsigned i = 0; i < pool.size(); ++i)
      pool.run_on(i, [&, i] {
        for (auto& b : bdevs) b->io_stats().reset_slot(i, how);
      });
  }
  return out;
}

std::string poll_group_name(unsigned reactor) { return fmt::format("nvmf_tgt_poll_group_{:03}", reactor); }

result<json> get_stats(nvmf_target& t, const json& params) {
  param_reader p(params);
  (void)p.optional_string("tgt_name");
  if (auto r = p.finish(); !r) return r.take_err();
  json transports = json::array();
  for (auto* tr : t.transports()) transports.push_back({{"trtype", std::string(tr->name())}});
  json groups = json::array();
  for (const auto& g : t.poll_groups())
    groups.push_back({{"name", poll_group_name(g.reactor)},
                      {"admin_qpairs", g.admin_qpairs},
                      {"io_qpairs", g.io_qpairs},
                      {"current_admin_qpairs", g.current_admin_qpairs},
                      {"current_io_qpairs", g.current_io_qpairs},
                      {"current_unassociated_qpairs", g.current_unassociated_qpairs},
                      {"pending_bdev_io", g.pending_bdev_io},
                      {"completed_nvme_io", g.completed_nvme_io},
                      {"transports", transports}});
  return json{{"tick_rate", tick_clock::rate()}, {"poll_groups", std::move(groups)}};
}

// "addr:port" or "[v6addr]:port" (target_queue::peer) as a listen_address object.
json peer_address(const std::string& peer, const std::string& trtype) {
  auto colon = peer.rfind(':');
  if (colon == std::string::npos) return {{"trtype", trtype}, {"adrfam", "IPv4"}, {"traddr", peer}, {"trsvcid", ""}};
  std::string addr = peer.substr(0, colon);
  bool v6 = addr.size() >= 2 && addr.front() == '[' && addr.back() == ']';
  if (v6) addr = addr.substr(1, addr.size() - 2);
  return {{"trtype", trtype}, {"adrfam", v6 ? "IPv6" : "IPv4"}, {"traddr", addr}, {"trsvcid", peer.substr(colon + 1)}};
}

result<json> get_qpairs(nvmf_target& t, const json& params) {
  param_reader p(params);
  auto nqn = p.required_string("nqn");
  (void)p.optional_string("tgt_name");
  if (auto r = p.finish(); !r) return r.take_err();
  auto qs = t.qpairs(nqn);
  if (!qs) return qs.take_err();
  json out = json::array();
  for (const auto& q : *qs) {
    bool v6 = q.local.traddr.find(':') != std::string::npos;
    out.push_back({{"cntlid", q.cntlid},
                   {"qid", q.qid},
                   {"state", "enabled"},
                   {"thread", poll_group_name(q.reactor)},
                   {"hostnqn", q.hostnqn},
                   {"listen_address",
                    {{"trtype", q.local.trtype}, {"adrfam", v6 ? "IPv6" : "IPv4"}, {"traddr", q.local.traddr},
                     {"trsvcid", q.local.trsvcid}}},
                   {"peer_address", peer_address(q.peer, q.local.trtype)}});
  }
  return out;
}

}  // namespace

void add_stats_methods(rpc_method_table& m, reactor_pool& pool, bdev_registry& bdevs, nvmf_target& t) {
  m.add("bdev_get_iostat", [&pool, &bdevs](const json& p) { return get_iostat(pool, bdevs, p); });
  m.add("nvmf_get_stats", [&t](const json& p) { return get_stats(t, p); });
  m.add("nvmf_subsystem_get_qpairs", [&t](const json& p) { return get_qpairs(t, p); });
}

}  // namespace nvmfd
