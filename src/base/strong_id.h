#pragma once
// Strong integer IDs: an nsid is not a cntlid, a qid is not a cid. They compare, hash and
// format like the integer they wrap; there is no arithmetic and no implicit conversion either
// way: a wire field becomes an ID with nsid_t{cmd.nsid.get()}, an ID goes on the wire or into a
// table index with .value.
#include <compare>
#include <cstdint>
#include <functional>

#include <fmt/format.h>

namespace nvmfd {

template <class Tag, class T>
struct strong_id {
  T value{};
  constexpr strong_id() = default;
  constexpr explicit strong_id(T v) : value(v) {}
  constexpr auto operator<=>(const strong_id&) const = default;
};

using nsid_t = strong_id<struct nsid_tag, uint32_t>;
using cntlid_t = strong_id<struct cntlid_tag, uint16_t>;
using qid_t = strong_id<struct qid_tag, uint16_t>;
using cid_t = strong_id<struct cid_tag, uint16_t>;

// The admin queue's ID.
inline constexpr qid_t admin_qid{0};
// All namespaces (the broadcast NSID; in a Changed Namespace List: more than 1024 changed).
inline constexpr nsid_t broadcast_nsid{0xffffffffu};

}  // namespace nvmfd

template <class Tag, class T>
struct std::hash<nvmfd::strong_id<Tag, T>> {
  size_t operator()(const nvmfd::strong_id<Tag, T>& id) const noexcept { return std::hash<T>{}(id.value); }
};

template <class Tag, class T>
struct fmt::formatter<nvmfd::strong_id<Tag, T>> : fmt::formatter<T> {
  template <class Context>
  auto format(const nvmfd::strong_id<Tag, T>& id, Context& ctx) const {
    return fmt::formatter<T>::format(id.value, ctx);
  }
};
