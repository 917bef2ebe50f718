#include "auth/dhchap_ids.h"

namespace nvmfd::auth {

std::optional<hash_id> hash_from_wire(uint8_t v) {
  if (v >= 1 && v <= 3) return static_cast<hash_id>(v);
  return std::nullopt;
}

std::optional<dh_group> dh_group_from_wire(uint8_t v) {
  if (v <= 5) return static_cast<dh_group>(v);
  return std::nullopt;
}

std::string_view name(hash_id h) {
  switch (h) {
    case hash_id::sha256: return "sha256";
    case hash_id::sha384: return "sha384";
    case hash_id::sha512: return "sha512";
  }
  return "unknown";
}

std::string_view name(dh_group g) {
  switch (g) {
    case dh_group::null: return "null";
    case dh_group::ffdhe2048: return "ffdhe2048";
    case dh_group::ffdhe3072: return "ffdhe3072";
    case dh_group::ffdhe4096: return "ffdhe4096";
    case dh_group::ffdhe6144: return "ffdhe6144";
    case dh_group::ffdhe8192: return "ffdhe8192";
  }
  return "unknown";
}

std::optional<hash_id> parse_hash(std::string_view s) {
  for (hash_id h : all_hashes)
    if (name(h) == s) return h;
  return std::nullopt;
}

std::optional<dh_group> parse_dh_group(std::string_view s) {
  for (dh_group g : all_dh_groups)
    if (name(g) == s) return g;
  return std::nullopt;
}

hash_set every_hash() {
  hash_set s;
  for (hash_id h : all_hashes) s.add(h);
  return s;
}

dh_group_set every_dh_group() {
  dh_group_set s;
  for (dh_group g : all_dh_groups) s.add(g);
  return s;
}

}  // namespace nvmfd::auth
