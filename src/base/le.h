#pragma once
// Little-endian wire field types with alignment 1, for the wire structs of src/proto.
// They are trivially copyable, so a whole struct is decoded with one memcpy after a
// length check; fields are read with get() and written with set().
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace nvmfd {

static_assert(std::endian::native == std::endian::little,
              "nvmfd wire types assume a little-endian host");

template <class T>
struct le {
  static_assert(std::is_integral_v<T> && std::is_unsigned_v<T>);
  std::array<uint8_t, sizeof(T)> raw{};

  constexpr T get() const {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(raw[i]) << (8 * i));
    return v;
  }
  constexpr void set(T v) {
    for (size_t i = 0; i < sizeof(T); ++i) raw[i] = static_cast<uint8_t>(v >> (8 * i));
  }
  constexpr le& operator=(T v) { set(v); return *this; }
};

using le16 = le<uint16_t>;
using le32 = le<uint32_t>;
using le64 = le<uint64_t>;

static_assert(sizeof(le16) == 2 && alignof(le16) == 1);
static_assert(sizeof(le32) == 4 && alignof(le32) == 1);
static_assert(sizeof(le64) == 8 && alignof(le64) == 1);
static_assert(std::is_trivially_copyable_v<le64>);

// Copies a wire struct out of a byte buffer. The caller has checked bytes.size() >= sizeof(S).
template <class S>
S load_wire(const void* bytes) {
  static_assert(std::is_trivially_copyable_v<S>);
  S s;
  std::memcpy(&s, bytes, sizeof(S));
  return s;
}

// Writes a fixed-width ASCII field (space padded, as NVMe's SN/MN/FR), truncating if long.
template <size_t N>
void set_ascii(std::array<char, N>& field, std::string_view s, char pad = ' ') {
  for (size_t i = 0; i < N; ++i) field[i] = i < s.size() ? s[i] : pad;
}

}  // namespace nvmfd
