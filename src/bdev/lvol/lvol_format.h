#pragma once
// The on-disk format of an lvol store (docs/lvol-format.md has the byte layout). Encoding
// and decoding only: no I/O. Everything is little-endian and protected by CRC32C.
//
//   [superblock: one 4 KiB block at byte 0, written once at creation]
//   [metadata slot 0][metadata slot 1]   (each slot_size bytes, 4 KiB aligned)
//   [data clusters ...]                  (from cluster first_data_cluster on)
//
// A metadata slot holds the whole state (name, size, allocation map, every volume with its
// cluster map) and a generation. Commits alternate slots: the one with the highest
// generation whose checksums hold is the state; a torn write of the newer slot leaves the
// older one, which was complete and flushed before the newer one was started.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/uuid.h"

namespace nvmfd::lvol {

inline constexpr uint32_t format_version = 1;
inline constexpr std::size_t superblock_size = 4096;
inline constexpr std::size_t max_name_len = 63;  // SPDK's limit for lvstore and lvol names
inline constexpr uint32_t max_volumes = 1024;
inline constexpr uint32_t unallocated = 0xFFFFFFFFu;  // a cluster-map entry with no cluster
// Physical clusters are 32-bit: a store and its metadata hold fewer than this many.
inline constexpr uint64_t max_store_clusters = uint64_t{1} << 30;
inline constexpr uint64_t max_format_cluster_size = 64ull << 20;
inline constexpr std::size_t max_parent_depth = 64;

struct superblock {
  uuid id;
  uint32_t block_size = 0;       // of the base bdev at creation
  uint64_t cluster_size = 0;     // bytes, a multiple of block_size
  uint64_t slot_offset[2] = {};  // bytes
  uint64_t slot_size = 0;        // bytes
  uint64_t first_data_cluster = 0;
  uint64_t max_clusters = 0;     // what the slots were sized for (grow limit)
};

// Sizes the layout for a base of base_bytes: slots big enough for max_volumes and for
// 4 x the clusters that fit now (so the store can grow with its base).
superblock plan_layout(uuid id, uint32_t block_size, uint64_t cluster_size, uint64_t base_bytes);

std::vector<std::byte> encode_superblock(const superblock& sb);
// not_found: no lvol store magic (not an lvol store); invalid_argument: a store whose
// checksum fails or whose version or fields make no sense (with what is wrong).
result<superblock> decode_superblock(std::span<const std::byte> block);

struct volume_record {
  uint32_t id = 0;         // unique in the store, never reused; 0 is "none"
  uint32_t parent_id = 0;  // the snapshot this volume is a clone of, or 0
  uuid vid;
  std::string name;
  bool thin = false;
  bool read_only = false;
  bool snapshot = false;
  uint64_t size_clusters = 0;
  // logical cluster -> physical cluster, allocated entries only, by logical cluster
  std::vector<std::pair<uint32_t, uint32_t>> allocated;
};

struct metadata {
  uint64_t generation = 0;
  std::string name;            // the store's name
  uint64_t total_clusters = 0; // clusters of the base in use by the store (incl. metadata)
  uint32_t next_volume_id = 1;
  std::vector<volume_record> volumes;
};

// Encodes md into a slot image of sb.slot_size bytes (with the allocation bitmap derived
// from the volumes). invalid_argument when it does not fit, no_memory never.
result<std::vector<std::byte>> encode_metadata(const superblock& sb, const metadata& md);
// How many bytes of a slot to read, from its first 4096 bytes: header plus payload rounded up
// to 4096 when the header is intact, else 4096 (decode_metadata then says what is wrong).
uint64_t used_slot_bytes(const superblock& sb, std::span<const std::byte> first_block);
// invalid_argument when the slot is torn or inconsistent: bad checksum, a cluster outside
// the data area or owned twice, an allocation bitmap that disagrees with the volumes.
result<metadata> decode_metadata(const superblock& sb, std::span<const std::byte> slot);

}  // namespace nvmfd::lvol
