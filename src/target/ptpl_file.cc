#include "target/ptpl_file.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nvmfd {

namespace {

using json = nlohmann::json;

error corrupt(const std::string& path, const std::string& why) {
  return error{errc::invalid_argument, fmt::format("reservation file {} is not usable: {}", path, why)};
}

// A uuid field of the file: its text, parsed.
result<uuid> uuid_field(const json& j, const char* name, const std::string& path) {
  if (!j.contains(name) || !j[name].is_string()) return corrupt(path, fmt::format("\"{}\" is missing or not a string", name));
  auto u = uuid::parse(j[name].get<std::string>());
  if (!u) return corrupt(path, fmt::format("\"{}\" is not a UUID", name));
  return *u;
}

result<uint64_t> u64_field(const json& j, const char* name, const std::string& path) {
  if (!j.contains(name) || !j[name].is_number_unsigned())
    return corrupt(path, fmt::format("\"{}\" is missing or not an unsigned integer", name));
  return j[name].get<uint64_t>();
}

}  // namespace

std::string encode_ptpl(const reservation_state& st, const uuid& bdev_uuid) {
  if (!st.ptpl()) return {};
  json j;
  j["ptpl"] = true;
  j["rtype"] = static_cast<uint32_t>(st.type());
  uint64_t crkey = 0;
  std::string holder;
  if (auto h = st.holder()) {
    for (auto& r : st.registrants())
      if (r.hostid == *h) crkey = r.rkey;
    // SPDK names no holder for the all-registrants types: every registrant holds them.
    if (!is_all_registrants(st.type())) holder = h->to_string();
  }
  j["crkey"] = crkey;
  j["bdev_uuid"] = bdev_uuid.to_string();
  j["holder_uuid"] = holder;
  json regs = json::array();
  for (auto& r : st.registrants()) regs.push_back({{"rkey", r.rkey}, {"host_uuid", r.hostid.to_string()}});
  j["registrants"] = std::move(regs);
  return j.dump(2) + "\n";
}

result<std::optional<ptpl_record>> decode_ptpl(const std::string& text, const std::string& path,
                                               const uuid& bdev_uuid) {
  if (std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }))
    return std::optional<ptpl_record>{};
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return corrupt(path, fmt::format("not JSON (truncated?): {}", e.what()));
  }
  if (!j.is_object()) return corrupt(path, "not a JSON object");
  if (j.contains("ptpl") && !j["ptpl"].is_boolean()) return corrupt(path, "\"ptpl\" is not a boolean");
  ptpl_record rec;
  rec.ptpl = j.value("ptpl", false);
  if (!rec.ptpl) return std::optional<ptpl_record>{};
  auto bdev = uuid_field(j, "bdev_uuid", path);
  if (!bdev) return bdev.take_err();
  if (*bdev != bdev_uuid)
    return corrupt(path, fmt::format("it belongs to bdev {}, not to this namespace's bdev {}", bdev->to_string(),
                                     bdev_uuid.to_string()));
  rec.bdev_uuid = *bdev;
  uint64_t rtype = 0;
  if (j.contains("rtype")) {
    auto t = u64_field(j, "rtype", path);
    if (!t) return t.take_err();
    rtype = *t;
  }
  if (rtype > 6) return corrupt(path, fmt::format("\"rtype\" {} is not a reservation type (0..6)", rtype));
  rec.rtype = static_cast<reservation_type>(rtype);
  if (!j.contains("registrants") || !j["registrants"].is_array()) return corrupt(path, "\"registrants\" is missing or not an array");
  for (auto& r : j["registrants"]) {
    if (!r.is_object()) return corrupt(path, "a registrant is not an object");
    auto key = u64_field(r, "rkey", path);
    if (!key) return key.take_err();
    auto host = uuid_field(r, "host_uuid", path);
    if (!host) return host.take_err();
    for (auto& seen : rec.registrants)
      if (seen.hostid == *host) return corrupt(path, fmt::format("host {} is registered twice", host->to_string()));
    rec.registrants.push_back({*host, *key});
  }
  if (rec.registrants.size() > reservation_state::max_registrants)
    return corrupt(path, fmt::format("{} registrants, at most {}", rec.registrants.size(), reservation_state::max_registrants));
  if (rec.rtype != reservation_type::none) {
    if (rec.registrants.empty()) return corrupt(path, "a reservation is held but nobody is registered");
    auto crkey = u64_field(j, "crkey", path);
    if (!crkey) return crkey.take_err();
    if (!is_all_registrants(rec.rtype)) {
      auto holder = uuid_field(j, "holder_uuid", path);
      if (!holder) return holder.take_err();
      auto it = std::find_if(rec.registrants.begin(), rec.registrants.end(), [&](auto& r) { return r.hostid == *holder; });
      if (it == rec.registrants.end())
        return corrupt(path, fmt::format("the holder {} is not registered", holder->to_string()));
      if (it->rkey != *crkey) return corrupt(path, "\"crkey\" is not the holder's registration key");
      rec.holder = *holder;
    } else if (std::none_of(rec.registrants.begin(), rec.registrants.end(), [&](auto& r) { return r.rkey == *crkey; })) {
      return corrupt(path, "\"crkey\" is no registrant's key");
    }
  }
  return std::optional<ptpl_record>{std::move(rec)};
}

result<std::optional<ptpl_record>> load_ptpl_file(const std::string& path, const uuid& bdev_uuid) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<ptpl_record>{};
    return error::from_errno(errno, fmt::format("open reservation file {}", path));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return error{errc::io_error, fmt::format("read reservation file {}", path)};
  return decode_ptpl(text.str(), path, bdev_uuid);
}

}  // namespace nvmfd
