#include "bdev/lvol/lvol_format.h"

#include <cstring>
#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <set>

#include "base/crc32c.h"

namespace nvmfd::lvol {

namespace {

constexpr char sb_magic[8] = {'N', 'V', 'M', 'F', 'D', 'L', 'V', 'S'};
constexpr char md_magic[8] = {'N', 'V', 'M', 'F', 'D', 'L', 'M', 'D'};
constexpr std::size_t slot_header_size = 64;
constexpr std::size_t name_field = 64;  // one length byte, then up to 63 bytes
constexpr std::size_t volume_fixed = 4 + 4 + 16 + name_field + 4 + 8 + 4;
constexpr uint32_t flag_thin = 1, flag_read_only = 2, flag_snapshot = 4;

uint32_t crc(std::span<const std::byte> s) {
  return crc32c_final(crc32c_update(crc32c_init, s.data(), s.size()));
}
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Appends little-endian fields to a byte vector.
class writer {
 public:
  explicit writer(std::vector<std::byte>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(std::byte{v}); }
  void u32(uint32_t v) { for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i))); }
  void u64(uint64_t v) { for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i))); }
  void bytes(const void* p, std::size_t n) {
    auto* b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void name(const std::string& s) {  // caller checked s.size() <= max_name_len
    u8(static_cast<uint8_t>(s.size()));
    bytes(s.data(), s.size());
    out_.resize(out_.size() + (name_field - 1 - s.size()));
  }

 private:
  std::vector<std::byte>& out_;
};

// Reads little-endian fields with bounds checks; once short, every read yields 0 and ok() is false.
class reader {
 public:
  explicit reader(std::span<const std::byte> in) : in_(in) {}
  bool ok() const { return ok_; }
  uint8_t u8() { return take(1) ? static_cast<uint8_t>(in_[pos_ - 1]) : 0; }
  uint32_t u32() { uint32_t v = 0; for (int i = 0; i < 4; ++i) v |= uint32_t{u8()} << (8 * i); return v; }
  uint64_t u64() { uint64_t v = 0; for (int i = 0; i < 8; ++i) v |= uint64_t{u8()} << (8 * i); return v; }
  void bytes(void* p, std::size_t n) {
    if (take(n)) std::memcpy(p, in_.data() + pos_ - n, n);
  }
  std::string name() {
    uint8_t len = u8();
    std::string s(name_field - 1, '\0');
    bytes(s.data(), s.size());
    if (len > max_name_len) ok_ = false;
    s.resize(std::min<std::size_t>(len, max_name_len));
    return s;
  }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) return ok_ = false;
    pos_ += n;
    return true;
  }
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

error corrupt(std::string what) {
  return error{errc::invalid_argument, "lvol store metadata is corrupt: " + std::move(what)};
}

uint64_t slot_bytes_for(uint64_t max_clusters) {
  return align_up(slot_header_size + name_field + 16 + (max_clusters + 7) / 8 + uint64_t{max_volumes} * volume_fixed +
                      8 * max_clusters,
                  4096);
}

}  // namespace

superblock plan_layout(uuid id, uint32_t block_size, uint64_t cluster_size, uint64_t base_bytes) {
  superblock sb;
  sb.id = id;
  sb.block_size = block_size;
  sb.cluster_size = cluster_size;
  sb.max_clusters = std::min<uint64_t>(4 * (base_bytes / cluster_size), max_store_clusters);
  sb.slot_size = slot_bytes_for(sb.max_clusters);
  sb.slot_offset[0] = superblock_size;
  sb.slot_offset[1] = superblock_size + sb.slot_size;
  sb.first_data_cluster = (superblock_size + 2 * sb.slot_size + cluster_size - 1) / cluster_size;
  return sb;
}

std::vector<std::byte> encode_superblock(const superblock& sb) {
  std::vector<std::byte> out;
  writer w(out);
  w.bytes(sb_magic, sizeof sb_magic);
  w.u32(format_version);
  w.u32(sb.block_size);
  w.u64(sb.cluster_size);
  w.bytes(sb.id.bytes.data(), 16);
  w.u64(sb.slot_offset[0]);
  w.u64(sb.slot_offset[1]);
  w.u64(sb.slot_size);
  w.u64(sb.first_data_cluster);
  w.u64(sb.max_clusters);
  out.resize(superblock_size - 4);
  w.u32(crc(out));
  return out;
}

result<superblock> decode_superblock(std::span<const std::byte> block) {
  if (block.size() < superblock_size || std::memcmp(block.data(), sb_magic, sizeof sb_magic) != 0)
    return error{errc::not_found, "no lvol store"};
  reader r(block.subspan(0, superblock_size));
  char magic[8];
  r.bytes(magic, 8);
  uint32_t version = r.u32();
  superblock sb;
  sb.block_size = r.u32();
  sb.cluster_size = r.u64();
  r.bytes(sb.id.bytes.data(), 16);
  sb.slot_offset[0] = r.u64();
  sb.slot_offset[1] = r.u64();
  sb.slot_size = r.u64();
  sb.first_data_cluster = r.u64();
  sb.max_clusters = r.u64();
  uint32_t stored = 0;
  std::memcpy(&stored, block.data() + superblock_size - 4, 4);  // little-endian host (le.h)
  if (stored != crc(block.subspan(0, superblock_size - 4))) return corrupt("superblock checksum mismatch");
  if (version != format_version) return corrupt(fmt::format("unsupported format version {}", version));
  bool pow2 = sb.cluster_size && !(sb.cluster_size & (sb.cluster_size - 1));
  if (!pow2 || sb.cluster_size > max_format_cluster_size || sb.max_clusters > max_store_clusters ||
      sb.block_size > superblock_size || sb.first_data_cluster > sb.max_clusters)
    return corrupt("superblock sizes out of range");
  if (sb.block_size < 512 || sb.cluster_size == 0 || sb.cluster_size % sb.block_size != 0 || sb.slot_size == 0 ||
      sb.slot_size % 4096 != 0 || sb.slot_offset[0] != superblock_size ||
      sb.slot_offset[1] != superblock_size + sb.slot_size ||
      sb.first_data_cluster * sb.cluster_size < superblock_size + 2 * sb.slot_size ||
      sb.slot_size != slot_bytes_for(sb.max_clusters))
    return corrupt("superblock fields are inconsistent");
  return sb;
}

result<std::vector<std::byte>> encode_metadata(const superblock& sb, const metadata& md) {
  std::vector<std::byte> payload;
  writer w(payload);
  w.name(md.name);
  w.u64(md.total_clusters);
  w.u32(md.next_volume_id);
  w.u32(static_cast<uint32_t>(md.volumes.size()));
  std::vector<uint8_t> bitmap((md.total_clusters + 7) / 8);
  for (auto& v : md.volumes)
    for (auto& [l, p] : v.allocated)
      if (p < md.total_clusters) bitmap[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
  w.bytes(bitmap.data(), bitmap.size());
  for (auto& v : md.volumes) {
    w.u32(v.id);
    w.u32(v.parent_id);
    w.bytes(v.vid.bytes.data(), 16);
    w.name(v.name);
    w.u32((v.thin ? flag_thin : 0) | (v.read_only ? flag_read_only : 0) | (v.snapshot ? flag_snapshot : 0));
    w.u64(v.size_clusters);
    w.u32(static_cast<uint32_t>(v.allocated.size()));
    for (auto& [l, p] : v.allocated) {
      w.u32(l);
      w.u32(p);
    }
  }
  if (slot_header_size + payload.size() > sb.slot_size)
    return error{errc::invalid_argument,
                 fmt::format("lvol store metadata of {} bytes does not fit its {}-byte slot", payload.size(), sb.slot_size)};
  std::vector<std::byte> out;
  writer h(out);
  h.bytes(md_magic, sizeof md_magic);
  h.u32(format_version);
  h.u32(0);
  h.u64(md.generation);
  h.u64(payload.size());
  h.u32(crc(payload));
  h.bytes(sb.id.bytes.data(), 16);
  out.resize(slot_header_size - 4);
  h.u32(crc(out));
  out.insert(out.end(), payload.begin(), payload.end());
  out.resize(align_up(out.size(), 4096));
  return out;
}

uint64_t used_slot_bytes(const superblock& sb, std::span<const std::byte> first) {
  if (first.size() < slot_header_size || std::memcmp(first.data(), md_magic, sizeof md_magic) != 0) return 4096;
  uint32_t stored = 0;
  std::memcpy(&stored, first.data() + slot_header_size - 4, 4);
  if (stored != crc(first.subspan(0, slot_header_size - 4))) return 4096;
  uint64_t len = 0;
  std::memcpy(&len, first.data() + 24, 8);
  if (len > sb.slot_size - slot_header_size) return 4096;
  return align_up(slot_header_size + len, 4096);
}

result<metadata> decode_metadata(const superblock& sb, std::span<const std::byte> slot) {
  if (slot.size() < slot_header_size || std::memcmp(slot.data(), md_magic, sizeof md_magic) != 0)
    return corrupt("metadata slot has no magic");
  reader h(slot.subspan(0, slot_header_size));
  char magic[8];
  h.bytes(magic, 8);
  uint32_t version = h.u32();
  h.u32();
  metadata md;
  md.generation = h.u64();
  uint64_t len = h.u64();
  uint32_t payload_crc = h.u32();
  uuid owner;
  h.bytes(owner.bytes.data(), 16);
  uint32_t stored = 0;
  std::memcpy(&stored, slot.data() + slot_header_size - 4, 4);
  if (stored != crc(slot.subspan(0, slot_header_size - 4))) return corrupt("metadata header checksum mismatch");
  if (version != format_version) return corrupt(fmt::format("unsupported metadata version {}", version));
  if (owner != sb.id) return corrupt("metadata slot of another lvol store");
  if (len > slot.size() - slot_header_size) return corrupt("metadata length past its slot");
  auto payload = slot.subspan(slot_header_size, len);
  if (crc(payload) != payload_crc) return corrupt("metadata checksum mismatch (torn write?)");

  reader r(payload);
  md.name = r.name();
  md.total_clusters = r.u64();
  md.next_volume_id = r.u32();
  uint32_t n = r.u32();
  if (!r.ok() || md.total_clusters > sb.max_clusters || md.total_clusters < sb.first_data_cluster || n > max_volumes)
    return corrupt("store fields out of range");
  std::vector<uint8_t> bitmap((md.total_clusters + 7) / 8);
  r.bytes(bitmap.data(), bitmap.size());
  std::vector<uint8_t> seen(bitmap.size());
  std::set<uint32_t> ids;
  std::set<std::string> names;
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    volume_record v;
    v.id = r.u32();
    v.parent_id = r.u32();
    r.bytes(v.vid.bytes.data(), 16);
    v.name = r.name();
    uint32_t flags = r.u32();
    v.thin = flags & flag_thin;
    v.read_only = flags & flag_read_only;
    v.snapshot = flags & flag_snapshot;
    v.size_clusters = r.u64();
    uint32_t count = r.u32();
    if (!r.ok() || v.id == 0 || v.id >= md.next_volume_id || !ids.insert(v.id).second || v.name.empty() ||
        !names.insert(v.name).second || v.size_clusters == 0 || v.size_clusters >= unallocated ||
        count > v.size_clusters || count > md.total_clusters)
      return corrupt(fmt::format("volume record {} is invalid", i));
    v.allocated.reserve(count);
    for (uint32_t k = 0; k < count; ++k) {
      uint32_t l = r.u32(), p = r.u32();
      if (!r.ok() || l >= v.size_clusters || (k > 0 && l <= v.allocated.back().first) || p < sb.first_data_cluster ||
          p >= md.total_clusters || (seen[p / 8] & (1u << (p % 8))))
        return corrupt(fmt::format("cluster map of volume {} is invalid", v.name));
      seen[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
      v.allocated.emplace_back(l, p);
    }
    md.volumes.push_back(std::move(v));
  }
  if (!r.ok()) return corrupt("metadata is truncated");
  if (seen != bitmap) return corrupt("allocation map disagrees with the volumes' cluster maps");
  std::map<uint32_t, uint32_t> parent_of;
  for (auto& v : md.volumes) {
    if (v.parent_id && (!ids.count(v.parent_id) || v.parent_id == v.id))
      return corrupt(fmt::format("volume {} has an unknown parent", v.name));
    parent_of[v.id] = v.parent_id;
  }
  for (auto& v : md.volumes) {  // chains end, and not too deep (a read walks them)
    std::size_t depth = 0;
    for (uint32_t id = v.parent_id; id; id = parent_of[id])
      if (++depth > max_parent_depth) return corrupt(fmt::format("volume {}'s parent chain loops", v.name));
  }
  return md;
}

}  // namespace nvmfd::lvol
