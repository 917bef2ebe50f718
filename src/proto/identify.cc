#include "proto/identify.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string>

namespace nvmfd {

namespace {

size_t put_descriptor(std::span<std::byte> out, size_t at, ns_id_type type, const void* id) {
  const uint8_t len = ns_id_length(type);
  ns_id_descriptor_header h{};
  h.nidt = static_cast<uint8_t>(type);
  h.nidl = len;
  std::memcpy(out.data() + at, &h, sizeof h);
  std::memcpy(out.data() + at + sizeof h, id, len);
  return at + sizeof h + len;
}

template <size_t N>
std::array<uint8_t, N> copy_id(std::span<const std::byte> list, size_t at) {
  std::array<uint8_t, N> a;
  std::memcpy(a.data(), list.data() + at, N);
  return a;
}

}  // namespace

size_t build_ns_id_descriptors(std::span<std::byte> out, const uint8_t* eui64_or_null,
                               const uint8_t* nguid_or_null, const uint8_t* uuid_or_null,
                               bool include_csi) {
  assert(out.size() >= identify_data_size);
  std::fill(out.begin(), out.begin() + identify_data_size, std::byte{0});
  size_t at = 0;  // at most 4 * 4 + 8 + 16 + 16 + 1 bytes: always fits
  if (eui64_or_null) at = put_descriptor(out, at, ns_id_type::eui64, eui64_or_null);
  if (nguid_or_null) at = put_descriptor(out, at, ns_id_type::nguid, nguid_or_null);
  if (uuid_or_null) at = put_descriptor(out, at, ns_id_type::uuid, uuid_or_null);
  if (include_csi) {
    const uint8_t csi = static_cast<uint8_t>(command_set::nvm);
    at = put_descriptor(out, at, ns_id_type::csi, &csi);
  }
  return at;
}

result<ns_id_descriptors> parse_ns_id_descriptors(std::span<const std::byte> list) {
  ns_id_descriptors d;
  size_t at = 0;
  auto bad = [&](const char* what) {
    return error{errc::protocol_error,
                 std::string("namespace id descriptor at ") + std::to_string(at) + ": " + what};
  };
  while (at < list.size()) {
    const uint8_t nidt = static_cast<uint8_t>(list[at]);
    if (nidt == 0) break;
    if (list.size() - at < sizeof(ns_id_descriptor_header)) return bad("header overruns list");
    const auto h = load_wire<ns_id_descriptor_header>(list.data() + at);
    const size_t body = at + sizeof h;
    if (list.size() - body < h.nidl) return bad("identifier overruns list");
    const auto type = static_cast<ns_id_type>(h.nidt);
    const uint8_t want = ns_id_length(type);
    if (want != 0 && h.nidl != want) return bad("wrong NIDL for type");
    switch (type) {
      case ns_id_type::eui64:
        if (d.eui64) return bad("duplicate EUI64");
        d.eui64 = copy_id<8>(list, body);
        break;
      case ns_id_type::nguid:
        if (d.nguid) return bad("duplicate NGUID");
        d.nguid = copy_id<16>(list, body);
        break;
      case ns_id_type::uuid:
        if (d.uuid) return bad("duplicate UUID");
        d.uuid = copy_id<16>(list, body);
        break;
      case ns_id_type::csi:
        if (d.csi) return bad("duplicate CSI");
        d.csi = static_cast<uint8_t>(list[body]);
        break;
      default:
        break;  // a type from a later revision: skip it by its NIDL
    }
    at = body + h.nidl;
  }
  return d;
}

}  // namespace nvmfd
