#pragma once
// multipath_policy: how an nvme_bdev spreads I/O over its usable paths (SPDK's
// bdev_nvme_set_multipath_policy):
//  - active_passive: every I/O goes to the first usable path in preference order (the
//    preferred path, then attach order); when it comes back, I/O returns to it.
//  - active_active: I/O is spread over all usable paths of the best ANA class, either in
//    turn (round_robin, rr_min_io I/Os per path before moving on) or to the path with the
//    fewest commands outstanding on the submitting reactor (queue_depth).
// "Usable": connected, and ANA optimized or non-optimized; non-optimized paths are used only
// while no optimized path is usable.
#include <cstdint>
#include <optional>
#include <string_view>

namespace nvmfd {

enum class multipath_mode : uint8_t { active_passive, active_active };
enum class multipath_selector : uint8_t { round_robin, queue_depth };

struct multipath_policy {
  multipath_mode mode = multipath_mode::active_passive;
  multipath_selector selector = multipath_selector::round_robin;
  uint32_t rr_min_io = 1;

  bool operator==(const multipath_policy&) const = default;
};

constexpr std::string_view multipath_mode_name(multipath_mode m) {
  return m == multipath_mode::active_passive ? "active_passive" : "active_active";
}
constexpr std::string_view multipath_selector_name(multipath_selector s) {
  return s == multipath_selector::round_robin ? "round_robin" : "queue_depth";
}
constexpr std::optional<multipath_mode> parse_multipath_mode(std::string_view s) {
  if (s == "active_passive") return multipath_mode::active_passive;
  if (s == "active_active") return multipath_mode::active_active;
  return std::nullopt;
}
constexpr std::optional<multipath_selector> parse_multipath_selector(std::string_view s) {
  if (s == "round_robin") return multipath_selector::round_robin;
  if (s == "queue_depth") return multipath_selector::queue_depth;
  return std::nullopt;
}

}  // namespace nvmfd
