#pragma once
// reservation_log: a controller's Reservation Notification log (NVMe Base 2.0 5.16.1.25):
// the notices not yet read, oldest first. Each gets the next Log Page Count (1, 2, ...;
// after 2^64 - 1 comes 1 again); when more than `capacity` wait, new ones are dropped but
// still counted, so the count the host reads jumps over what was lost (Base 2.0: "if the
// log page count ... is not one more than the previous, log pages were lost").
//
// Threading: the controller's admin reactor only.
#include <cstdint>
#include <deque>

#include "base/strong_id.h"
#include "proto/reservations.h"

namespace nvmfd {

class reservation_log {
 public:
  static constexpr size_t capacity = 255;  // Number of Available Log Pages is one byte

  // Adds a notice; false when it was dropped (full).
  bool add(nsid_t nsid, reservation_notice type) {
    if (++count_ == 0) count_ = 1;
    if (entries_.size() >= capacity) return false;
    reservation_notification_log e{};
    e.count = count_;
    e.type = static_cast<uint8_t>(type);
    e.nsid = nsid.value;
    entries_.push_back(e);
    return true;
  }
  // The oldest notice, with how many follow, removed; an empty page (count 0) when none.
  reservation_notification_log take() {
    if (entries_.empty()) return {};
    reservation_notification_log e = entries_.front();
    entries_.pop_front();
    e.available = static_cast<uint8_t>(entries_.size());
    return e;
  }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  std::deque<reservation_notification_log> entries_;
  uint64_t count_ = 0;
};

}  // namespace nvmfd
