#pragma once
// Helpers shared by the src/proto wire structs: bounded decode of a whole struct out of a
// received buffer, encode into a send buffer, and fixed-width ASCII fields.
// Pure functions; callable from any core.
#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "base/le.h"

namespace nvmfd {

// Copies S out of `in` if `in` holds at least sizeof(S) bytes; nullopt otherwise.
// Never reinterpret_casts the buffer (it may be unaligned or shorter than S).
template <class S>
std::optional<S> decode_wire(std::span<const std::byte> in) {
  static_assert(std::is_trivially_copyable_v<S>);
  if (in.size() < sizeof(S)) return std::nullopt;
  return load_wire<S>(in.data());
}

// Writes S to the front of `out`. The caller sized `out` (an assert, not a wire check).
template <class S>
void encode_wire(const S& s, std::span<std::byte> out) {
  static_assert(std::is_trivially_copyable_v<S>);
  assert(out.size() >= sizeof(S));
  std::memcpy(out.data(), &s, sizeof(S));
}

template <class S>
std::span<const std::byte> wire_bytes(const S& s) {
  static_assert(std::is_trivially_copyable_v<S>);
  return std::as_bytes(std::span<const S, 1>(&s, 1));
}

// Fills a fixed-width ASCII field with `text`, then `pad` to the end. Returns false (and
// writes the first N bytes) if `text` is longer than the field.
// NVMe pads SN/MN/FR with spaces; NQN fields are NUL padded (Base 2.0 5.17.2.1, 4.5).
template <size_t N>
bool set_padded(std::array<char, N>& field, std::string_view text, char pad) {
  const size_t n = std::min(N, text.size());
  std::memcpy(field.data(), text.data(), n);
  std::fill(field.begin() + static_cast<ptrdiff_t>(n), field.end(), pad);
  return text.size() <= N;
}

// The text of a fixed-width ASCII field: everything up to the first NUL, without trailing
// spaces. Accepts both paddings, since peers differ (SPDK pads discovery TRADDR/TRSVCID
// with spaces, Linux nvmet with NULs).
template <size_t N>
std::string_view read_padded(const std::array<char, N>& field) {
  size_t n = 0;
  while (n < N && field[n] != '\0') ++n;
  while (n > 0 && field[n - 1] == ' ') --n;
  return {field.data(), n};
}

// 128-bit little-endian counters (SMART log, TNVMCAP). Values past 2^64 never occur here.
inline void set_le128(uint8_t (&field)[16], uint64_t v) {
  for (size_t i = 0; i < 16; ++i) field[i] = i < 8 ? static_cast<uint8_t>(v >> (8 * i)) : 0;
}
// The low 64 bits; `saturated` (if given) is set when the high half is non-zero.
inline uint64_t get_le128_low(const uint8_t (&field)[16], bool* saturated = nullptr) {
  uint64_t v = 0, hi = 0;
  for (size_t i = 0; i < 8; ++i) v |= uint64_t{field[i]} << (8 * i);
  for (size_t i = 8; i < 16; ++i) hi |= field[i];
  if (saturated) *saturated = hi != 0;
  return v;
}

}  // namespace nvmfd
