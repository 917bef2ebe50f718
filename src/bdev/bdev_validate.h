#pragma once
// Checks shared by every backend: block-size and geometry rules at creation (control
// thread), and the per-I/O checks of the bdev contract at submit (any reactor; they
// allocate nothing).
#include <cstdint>
#include <optional>

#include "base/result.h"
#include "base/uuid.h"
#include "bdev/bdev.h"

namespace nvmfd {

// A block size must be a power of two from 512 to 64 KiB: NVMe reports the LBA data size
// as a power of two of at least 512 (Identify Namespace, LBA Format LBADS), and SPDK's
// bdevs take nothing smaller than 512. Fails with invalid_argument.
inline constexpr uint32_t min_block_size = 512;
inline constexpr uint32_t max_block_size = 64 * 1024;
result<void> check_block_size(uint32_t block_size);

// Checks the block size and that num_blocks > 0 and num_blocks * block_size fits in 64
// bits; returns the size in bytes. Fails with invalid_argument.
result<uint64_t> check_geometry(uint32_t block_size, uint64_t num_blocks);

// The bdev's UUID: the given one, or a random one when none (or the nil UUID, as SPDK
// treats it) is given.
uuid pick_uuid(const std::optional<uuid>& id);

// The checks every submit() makes before touching the medium: 0, or the status to
// complete with: -EOPNOTSUPP (op not supported), -EROFS (a write to a read-only bdev),
// -EINVAL (range past the end, no buffer, or a buffer not aligned to buf_align()).
int validate_io(const bdev& b, const bdev_io& io);

}  // namespace nvmfd
