#include "metrics/metrics_collector.h"

#include <array>
#include <set>

#include "metrics/prometheus_text.h"

namespace nvmfd::metrics {

namespace {

// The result of an in-process RPC call, or null when the method is absent or fails.
json call(const rpc_method_table& m, const std::string& method, const json& params = nullptr) {
  const rpc_handler* h = m.find(method);
  if (!h) return nullptr;
  auto r = (*h)(params);
  return r ? std::move(r.value()) : json(nullptr);
}

uint64_t u64(const json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<uint64_t>() : 0; }
std::string str(const json& j, const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : ""; }

constexpr std::array<const char*, 5> ana_states = {"optimized", "non_optimized", "inaccessible", "persistent_loss",
                                                   "change"};

void bdev_families(prometheus_text& p, const json& iostat, bdev_registry& reg) {
  if (!iostat.is_object() || !iostat.contains("bdevs")) return;
  const double rate = static_cast<double>(u64(iostat, "tick_rate"));
  const json& bdevs = iostat["bdevs"];
  struct op_keys {
    const char* op;
    const char* ops;
    const char* bytes;  // null: no bytes
  };
  constexpr std::array<op_keys, 5> ops = {{{"read", "num_read_ops", "bytes_read"},
                                           {"write", "num_write_ops", "bytes_written"},
                                           {"unmap", "num_unmap_ops", "bytes_unmapped"},
                                           {"flush", "num_flush_ops", nullptr},
                                           {"write_zeroes", "num_write_zeroes_ops", "bytes_zeroed"}}};
  p.family("nvmfd_bdev_ops_total", "counter", "I/Os completed successfully, per bdev and operation.");
  for (const json& b : bdevs)
    for (const auto& o : ops) p.sample("nvmfd_bdev_ops_total", {{"bdev", str(b, "name")}, {"op", o.op}}, double(u64(b, o.ops)));
  p.family("nvmfd_bdev_bytes_total", "counter", "Bytes of successful I/Os, per bdev and operation.");
  for (const json& b : bdevs)
    for (const auto& o : ops)
      if (o.bytes) p.sample("nvmfd_bdev_bytes_total", {{"bdev", str(b, "name")}, {"op", o.op}}, double(u64(b, o.bytes)));
  p.family("nvmfd_bdev_io_errors_total", "counter", "I/Os completed with an error, per bdev.");
  for (const json& b : bdevs) p.sample("nvmfd_bdev_io_errors_total", {{"bdev", str(b, "name")}}, double(u64(b, "num_io_errors")));
  p.family("nvmfd_bdev_io_latency_seconds", "histogram",
           "Latency of reads and writes from submission to completion at the bdev, per bdev.");
  for (const json& b : bdevs) {
    auto dev = reg.find(str(b, "name"));
    if (!dev || rate <= 0) continue;
    for (bdev_op op : {bdev_op::read, bdev_op::write}) {
      latency_histogram h = dev->io_stats().histogram(op);
      p.histogram("nvmfd_bdev_io_latency_seconds", {{"bdev", dev->name()}, {"op", op == bdev_op::read ? "read" : "write"}},
                  latency_bucket_bounds_s, h.counts, static_cast<double>(h.sum_ticks) / rate);
    }
  }
}

void listener_labels(labels& l, const json& addr) {
  l.emplace_back("trtype", str(addr, "trtype"));
  l.emplace_back("traddr", str(addr, "traddr"));
  l.emplace_back("trsvcid", str(addr, "trsvcid"));
}

void target_families(prometheus_text& p, const rpc_method_table& m, nvmf_target& t) {
  json subsystems = call(m, "nvmf_get_subsystems");
  if (!subsystems.is_array()) return;
  p.family("nvmfd_subsystem_controllers", "gauge", "Controllers connected to the subsystem.");
  std::vector<std::pair<std::string, std::size_t>> hosts;
  for (const json& s : subsystems) {
    std::string nqn = str(s, "nqn");
    json ctrls = call(m, "nvmf_subsystem_get_controllers", {{"nqn", nqn}});
    if (!ctrls.is_array()) continue;
    std::set<std::string> distinct;
    for (const json& c : ctrls) distinct.insert(str(c, "hostnqn"));
    hosts.emplace_back(nqn, distinct.size());
    p.sample("nvmfd_subsystem_controllers", {{"nqn", nqn}}, double(ctrls.size()));
  }
  p.family("nvmfd_subsystem_hosts", "gauge", "Distinct host NQNs with a controller on the subsystem.");
  for (const auto& [nqn, n] : hosts) p.sample("nvmfd_subsystem_hosts", {{"nqn", nqn}}, double(n));
  p.family("nvmfd_namespace_info", "gauge", "1 for each namespace: which bdev a subsystem's NSID serves.");
  for (const json& s : subsystems)
    for (const json& ns : s.value("namespaces", json::array()))
      p.sample("nvmfd_namespace_info",
               {{"nqn", str(s, "nqn")}, {"nsid", std::to_string(u64(ns, "nsid"))}, {"bdev", str(ns, "bdev_name")}}, 1);
  p.family("nvmfd_listener_ana_state", "gauge",
           "1 for the ANA state an ANA group has through a listener, 0 for the other states.");
  for (const json& s : subsystems) {
    if (str(s, "subtype") == "Discovery") continue;
    json listeners = call(m, "nvmf_subsystem_get_listeners", {{"nqn", str(s, "nqn")}});
    if (!listeners.is_array()) continue;
    // The groups its namespaces are in (the RPC lists every possible group).
    std::set<uint64_t> groups;
    for (const json& ns : s.value("namespaces", json::array())) groups.insert(u64(ns, "anagrpid"));
    for (const json& l : listeners)
      for (const json& g : l.value("ana_states", json::array()))
        for (const char* state : ana_states) {
          if (!groups.count(u64(g, "ana_group"))) break;
          labels lb{{"nqn", str(s, "nqn")}};
          listener_labels(lb, l.value("address", json::object()));
          lb.emplace_back("ana_group", std::to_string(u64(g, "ana_group")));
          lb.emplace_back("state", state);
          p.sample("nvmfd_listener_ana_state", lb, str(g, "ana_state") == state ? 1 : 0);
        }
  }
  uint64_t genctr;
  {
    std::lock_guard lk(t.mu());
    genctr = t.discovery_genctr_locked();
  }
  p.family("nvmfd_discovery_log_generation", "gauge",
           "The discovery log page's generation counter (GENCTR): it moves on every change of the log.");
  p.sample("nvmfd_discovery_log_generation", {}, double(genctr));
}

void host_families(prometheus_text& p, const rpc_method_table& m) {
  json paths = call(m, "bdev_nvme_get_io_paths");
  if (!paths.is_object() || paths["poll_groups"].empty()) return;
  const json& list = paths["poll_groups"][0]["io_paths"];
  auto path_labels = [](const std::string& bdev, const json& tr) {
    labels l{{"bdev", bdev}};
    listener_labels(l, tr);
    return l;
  };
  p.family("nvmfd_host_path_connected", "gauge", "1 when the host's path to a namespace is connected.");
  for (const json& io : list)
    p.sample("nvmfd_host_path_connected", path_labels(str(io, "bdev_name"), io["transport"]), io.value("connected", false) ? 1 : 0);
  p.family("nvmfd_host_path_current", "gauge", "1 when the multipath policy sends I/O down this path now.");
  for (const json& io : list)
    p.sample("nvmfd_host_path_current", path_labels(str(io, "bdev_name"), io["transport"]), io.value("current", false) ? 1 : 0);
  p.family("nvmfd_host_path_ana_state", "gauge", "1 for the ANA state the namespace has through this path, 0 for the others.");
  for (const json& io : list)
    for (const char* state : ana_states) {
      labels l = path_labels(str(io, "bdev_name"), io["transport"]);
      l.emplace_back("state", state);
      p.sample("nvmfd_host_path_ana_state", l, str(io, "ana_state") == state ? 1 : 0);
    }
  std::set<std::string> bdevs;
  for (const json& io : list) bdevs.insert(str(io, "bdev_name"));
  p.family("nvmfd_host_path_ops_total", "counter", "I/Os completed through the path, per operation.");
  std::vector<std::pair<labels, uint64_t>> bytes;
  for (const std::string& b : bdevs) {
    json st = call(m, "bdev_nvme_get_path_iostat", {{"name", b}});
    if (!st.is_object()) continue;
    for (const json& s : st.value("stats", json::array()))
      for (auto [op, ops_key, bytes_key] : {std::tuple{"read", "num_read_ops", "bytes_read"},
                                             std::tuple{"write", "num_write_ops", "bytes_written"}}) {
        labels l = path_labels(b, s["trid"]);
        l.emplace_back("op", op);
        p.sample("nvmfd_host_path_ops_total", l, double(u64(s["stat"], ops_key)));
        bytes.emplace_back(std::move(l), u64(s["stat"], bytes_key));
      }
  }
  p.family("nvmfd_host_path_bytes_total", "counter", "Bytes of I/Os completed through the path, per operation.");
  for (const auto& [l, v] : bytes) p.sample("nvmfd_host_path_bytes_total", l, double(v));
}

void lvol_families(prometheus_text& p, const rpc_method_table& m) {
  json stores = call(m, "bdev_lvol_get_lvstores");
  if (!stores.is_array()) return;
  p.family("nvmfd_lvs_free_clusters", "gauge", "Free clusters of the logical volume store.");
  for (const json& s : stores) p.sample("nvmfd_lvs_free_clusters", {{"lvs", str(s, "name")}}, double(u64(s, "free_clusters")));
  p.family("nvmfd_lvs_clusters", "gauge", "Data clusters of the logical volume store, free or not.");
  for (const json& s : stores) p.sample("nvmfd_lvs_clusters", {{"lvs", str(s, "name")}}, double(u64(s, "total_data_clusters")));
  p.family("nvmfd_lvs_cluster_size_bytes", "gauge", "Cluster size of the logical volume store.");
  for (const json& s : stores) p.sample("nvmfd_lvs_cluster_size_bytes", {{"lvs", str(s, "name")}}, double(u64(s, "cluster_size")));
}

}  // namespace

std::string metrics_collector::render() {
  prometheus_text p;
  bdev_families(p, call(methods_, "bdev_get_iostat"), bdevs_);
  json reactors = call(methods_, "framework_get_reactors");
  if (reactors.is_object()) {
    const double rate = static_cast<double>(u64(reactors, "tick_rate"));
    const json& list = reactors["reactors"];
    p.family("nvmfd_reactor_busy_seconds_total", "counter", "Time the reactor spent working (not asleep).");
    for (const json& r : list)
      p.sample("nvmfd_reactor_busy_seconds_total", {{"reactor", std::to_string(u64(r, "lcore"))}}, double(u64(r, "busy")) / rate);
    p.family("nvmfd_reactor_idle_seconds_total", "counter", "Time the reactor spent asleep, waiting for work.");
    for (const json& r : list)
      p.sample("nvmfd_reactor_idle_seconds_total", {{"reactor", std::to_string(u64(r, "lcore"))}}, double(u64(r, "idle")) / rate);
    p.family("nvmfd_reactor_busy_ratio", "gauge",
             "Busy share of the reactor's time since the previous scrape (since start at the first).");
    std::map<int64_t, reactor_sample> now;
    for (const json& r : list) {
      auto lcore = static_cast<int64_t>(u64(r, "lcore"));
      reactor_sample s{u64(r, "busy"), u64(r, "idle")}, prev = last_reactors_.count(lcore) ? last_reactors_[lcore] : reactor_sample{};
      double busy = double(s.busy - prev.busy), all = busy + double(s.idle - prev.idle);
      p.sample("nvmfd_reactor_busy_ratio", {{"reactor", std::to_string(lcore)}}, all > 0 ? busy / all : 0);
      now[lcore] = s;
    }
    last_reactors_ = std::move(now);
  }
  target_families(p, methods_, target_);
  host_families(p, methods_);
  lvol_families(p, methods_);
  return p.text();
}

}  // namespace nvmfd::metrics
