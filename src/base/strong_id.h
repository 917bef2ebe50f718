#pragma once
// Strong integer IDs: an nsid is not a cntlid. Compare and hash, no arithmetic.
#include <compare>
#include <cstdint>
#include <functional>

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

}  // namespace nvmfd

template <class Tag, class T>
struct std::hash<nvmfd::strong_id<Tag, T>> {
  size_t operator()(const nvmfd::strong_id<Tag, T>& id) const noexcept { return std::hash<T>{}(id.value); }
};
