#include "iostat_command.h"

#include <chrono>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "config_commands.h"

namespace nvmfd::ctl {

namespace {

result<uint64_t> field(const nlohmann::json& j, const char* name, const std::string& where) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0))
    return error{errc::protocol_error, fmt::format("bdev_get_iostat: {}{} is not an unsigned number", where, name)};
  return it->get<uint64_t>();
}

// b - a, or b when the counter went back (a reset between the samples).
uint64_t delta(uint64_t a, uint64_t b) { return b >= a ? b - a : b; }

}  // namespace

result<iostat_sample> parse_iostat(const nlohmann::json& r) {
  if (!r.is_object()) return error{errc::protocol_error, "bdev_get_iostat: the result is not an object"};
  iostat_sample s;
  auto rate = field(r, "tick_rate", "");
  if (!rate) return rate.take_err();
  auto ticks = field(r, "ticks", "");
  if (!ticks) return ticks.take_err();
  if (*rate == 0) return error{errc::protocol_error, "bdev_get_iostat: tick_rate is 0"};
  s.tick_rate = *rate;
  s.ticks = *ticks;
  auto bdevs = r.find("bdevs");
  if (bdevs == r.end() || !bdevs->is_array()) return error{errc::protocol_error, "bdev_get_iostat: no bdevs array"};
  for (auto& b : *bdevs) {
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string())
      return error{errc::protocol_error, "bdev_get_iostat: a bdev without a name"};
    std::string where = b["name"].get<std::string>() + ": ";
    bdev_io_counters c;
    struct {
      const char* name;
      uint64_t* to;
      bool required;
    } fields[] = {{"bytes_read", &c.bytes_read, true},
                  {"num_read_ops", &c.num_read_ops, true},
                  {"bytes_written", &c.bytes_written, true},
                  {"num_write_ops", &c.num_write_ops, true},
                  {"bytes_unmapped", &c.bytes_unmapped, false},
                  {"num_unmap_ops", &c.num_unmap_ops, false},
                  {"read_latency_ticks", &c.read_latency_ticks, true},
                  {"write_latency_ticks", &c.write_latency_ticks, true}};
    for (auto& f : fields) {
      if (!f.required && !b.contains(f.name)) continue;
      auto v = field(b, f.name, where);
      if (!v) return v.take_err();
      *f.to = *v;
    }
    s.bdevs[b["name"].get<std::string>()] = c;
  }
  return s;
}

std::string iostat_table(const iostat_sample& before, const iostat_sample& now) {
  double secs = static_cast<double>(delta(before.ticks, now.ticks)) / static_cast<double>(now.tick_rate);
  if (secs <= 0) secs = 1e-9;
  std::string out = fmt::format("{:<24} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "Device", "IOPS", "r/s",
                                "w/s", "rMiB/s", "wMiB/s", "r_lat_us", "w_lat_us");
  for (auto& [name, c] : now.bdevs) {
    auto it = before.bdevs.find(name);
    bdev_io_counters z;
    const bdev_io_counters& b = it == before.bdevs.end() ? z : it->second;
    uint64_t r = delta(b.num_read_ops, c.num_read_ops), w = delta(b.num_write_ops, c.num_write_ops);
    uint64_t u = delta(b.num_unmap_ops, c.num_unmap_ops);
    auto lat_us = [&](uint64_t ticks, uint64_t ops) {
      return ops == 0 ? 0.0 : static_cast<double>(ticks) / static_cast<double>(ops) * 1e6 / static_cast<double>(now.tick_rate);
    };
    out += fmt::format("{:<24} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.2f} {:>10.2f} {:>10.1f} {:>10.1f}\n", name,
                       static_cast<double>(r + w + u) / secs, static_cast<double>(r) / secs,
                       static_cast<double>(w) / secs,
                       static_cast<double>(delta(b.bytes_read, c.bytes_read)) / secs / (1 << 20),
                       static_cast<double>(delta(b.bytes_written, c.bytes_written)) / secs / (1 << 20),
                       lat_us(delta(b.read_latency_ticks, c.read_latency_ticks), r),
                       lat_us(delta(b.write_latency_ticks, c.write_latency_ticks), w));
  }
  return out;
}

result<iostat_options> iostat_params(const std::vector<std::string>& args) {
  iostat_options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> result<std::string> {
      if (i + 1 >= args.size()) return error{errc::invalid_argument, fmt::format("iostat: {} needs a value", a)};
      return args[++i];
    };
    if (a == "-i" || a == "--interval") {
      auto v = value();
      if (!v) return v.take_err();
      try {
        size_t used = 0;
        o.interval_s = std::stod(*v, &used);
        if (used != v->size() || !(o.interval_s >= 0.1 && o.interval_s <= 3600)) throw std::invalid_argument(*v);
      } catch (const std::exception&) {
        return error{errc::invalid_argument, fmt::format("iostat: -i {}: expected seconds, 0.1 to 3600", *v)};
      }
    } else if (a == "-c" || a == "--count") {
      auto v = value();
      if (!v) return v.take_err();
      try {
        size_t used = 0;
        o.count = std::stol(*v, &used);
        if (used != v->size() || o.count < 1) throw std::invalid_argument(*v);
      } catch (const std::exception&) {
        return error{errc::invalid_argument, fmt::format("iostat: -c {}: expected a count of 1 or more", *v)};
      }
    } else if (a == "-b" || a == "--bdev") {
      auto v = value();
      if (!v) return v.take_err();
      o.names.push_back(*v);
    } else {
      return error{errc::invalid_argument, fmt::format("iostat: unknown option {}", a)};
    }
  }
  return o;
}

int iostat_command(rpc_client& client, const std::vector<std::string>& args) {
  auto o = iostat_params(args);
  if (!o) {
    std::cerr << "nvmfctl: " << o.err().message << "\n";
    return 1;
  }
  nlohmann::json params = nlohmann::json::object();
  if (!o->names.empty()) params["names"] = o->names;
  auto sample = [&]() -> result<iostat_sample> {
    auto r = client.call("bdev_get_iostat", params);
    if (!r) return r.take_err();
    if (!r->ok()) {
      print_rpc_error("bdev_get_iostat", r->error);
      return error{errc::io_error, ""};
    }
    return parse_iostat(r->result);
  };
  auto prev = sample();
  for (long n = 0; prev && (o->count < 0 || n < o->count); ++n) {
    std::this_thread::sleep_for(std::chrono::duration<double>(o->interval_s));
    auto next = sample();
    if (!next) {
      prev = next.take_err();
      break;
    }
    std::cout << iostat_table(*prev, *next) << std::endl;
    prev = std::move(next);
  }
  if (!prev) {
    if (!prev.err().message.empty()) std::cerr << "nvmfctl: iostat: " << prev.err().message << "\n";
    return 1;
  }
  return 0;
}

}  // namespace nvmfd::ctl
