#pragma once
// lvol_bdev: the block device of one logical volume (SPDK's "Logical Volume" bdev), named by
// the volume's UUID with the alias "<lvs name>/<lvol name>". An I/O is cut at cluster
// boundaries; each piece goes to the base bdev at its physical cluster:
//  - read: the volume's cluster, else the nearest ancestor snapshot's, else zeroes;
//  - write: to the volume's own cluster, allocating it first when it has none (zero fill,
//    or a copy of the ancestor's cluster: copy-on-write);
//  - write_zeroes / unmap: a whole cluster of a thin volume without a parent is given back
//    (it reads as zeroes); otherwise the range is zeroed on the base;
//  - flush: flush the base, then wait until the store's metadata (clusters allocated so
//    far) is durable; fua: a write that allocated waits for the same before completing.
// Reads and writes to allocated clusters allocate nothing (per-reactor free list of piece
// contexts); allocation and flush are slow paths. Thread rules as bdev.h.
#include <memory>
#include <string>
#include <vector>

#include "bdev/bdev.h"
#include "bdev/lvol/lvol_store.h"

namespace nvmfd::lvol {

class lvol_bdev final : public bdev {
 public:
  lvol_bdev(lvol_store& s, volume& v);

  std::string_view product_name() const override { return "Logical Volume"; }
  bool has_volatile_cache() const override { return store_.base()->has_volatile_cache(); }
  bool supports(bdev_op) const override { return true; }
  uint32_t buf_align() const override { return store_.base()->buf_align(); }
  bool read_only() const override { return vol_.read_only.load() || vol_.snapshot; }
  std::vector<std::string> aliases() const override;
  void do_submit(bdev_io& io) override;

  lvol_store& store() const { return store_; }
  volume& vol() const { return vol_; }
  // Control thread (resize).
  void set_size_blocks(uint64_t n) { set_num_blocks(n); }

  // Internal: one piece of an I/O finished with status st (owner reactor); the last one
  // completes the parent (later when inside submit, else at once).
  void piece_done(bdev_io& parent, int st, bool inside_submit);

 private:
  void start_piece(bdev_io& parent, uint64_t lc, uint64_t offset_in_cluster, uint64_t blocks, std::byte* buf);
  void start_flush(bdev_io& parent);
  // A piece of parent that only waits until the metadata dirty so far is durable.
  void wait_commit(bdev_io& parent);

  lvol_store& store_;
  volume& vol_;
};

std::shared_ptr<lvol_bdev> make_lvol_bdev(lvol_store& s, volume& v);

}  // namespace nvmfd::lvol
