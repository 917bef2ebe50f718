#pragma once
// Asymmetric Namespace Access log page, LID 0Ch (NVMe Base 2.0 5.16.1.13, Figures 225-227):
// a 16-byte header, then ngrps group descriptors, each a 32-byte header followed by nnsids
// le32 NSIDs (omitted when the host sets LSP.RGO). Pure data; callable from any core.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "base/le.h"

namespace nvmfd {

// ANA state (Base 2.0 8.20.3).
enum class ana_state : uint8_t {
  optimized = 0x1,
  non_optimized = 0x2,
  inaccessible = 0x3,
  persistent_loss = 0x4,
  change = 0xf,
};

// The names SPDK's RPCs use for ANA states.
constexpr std::string_view ana_state_rpc_name(ana_state s) {
  switch (s) {
    case ana_state::optimized: return "optimized";
    case ana_state::non_optimized: return "non_optimized";
    case ana_state::inaccessible: return "inaccessible";
    case ana_state::persistent_loss: return "persistent_loss";
    case ana_state::change: return "change";
  }
  return "unknown";
}
constexpr std::optional<ana_state> parse_ana_state(std::string_view name) {
  for (auto s : {ana_state::optimized, ana_state::non_optimized, ana_state::inaccessible,
                 ana_state::persistent_loss, ana_state::change})
    if (ana_state_rpc_name(s) == name) return s;
  return std::nullopt;
}

struct ana_log_header {
  le64 chgcnt;
  le16 ngrps;
  uint8_t reserved10[6];
};
static_assert(sizeof(ana_log_header) == 16);
static_assert(std::is_trivially_copyable_v<ana_log_header>);
static_assert(offsetof(ana_log_header, ngrps) == 8);

struct ana_group_descriptor {
  le32 grpid;
  le32 nnsids;
  le64 chgcnt;
  uint8_t state;    // bits 3:0 ana_state
  uint8_t reserved17[15];

  constexpr ana_state ana() const { return static_cast<ana_state>(state & 0x0f); }
};
static_assert(sizeof(ana_group_descriptor) == 32);
static_assert(std::is_trivially_copyable_v<ana_group_descriptor>);
static_assert(offsetof(ana_group_descriptor, nnsids) == 4);
static_assert(offsetof(ana_group_descriptor, chgcnt) == 8);
static_assert(offsetof(ana_group_descriptor, state) == 16);

// Bytes of an ANA log page with `groups` descriptors listing `nsids` NSIDs in total.
constexpr uint64_t ana_log_size(uint64_t groups, uint64_t nsids) {
  return sizeof(ana_log_header) + groups * sizeof(ana_group_descriptor) + nsids * 4;
}

}  // namespace nvmfd
