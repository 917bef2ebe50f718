#pragma once
// growing_disk: a disk whose size the test sets (as a resized volume's), over a larger disk
// that holds the data.
#include <memory>
#include <string>

#include "base/uuid.h"
#include "bdev/bdev.h"

namespace nvmfd::test {

class growing_disk final : public bdev {
 public:
  growing_disk(std::string name, std::shared_ptr<bdev> inner, uint64_t blocks)
      : bdev(std::move(name), inner->block_size(), blocks, uuid::random_v4()), inner_(std::move(inner)) {}
  std::string_view product_name() const override { return "test disk"; }
  bool has_volatile_cache() const override { return false; }
  bool supports(bdev_op op) const override { return inner_->supports(op); }
  void do_submit(bdev_io& io) override { inner_->submit(io); }
  // Resize observers run on the calling thread.
  void resize(uint64_t blocks) { set_num_blocks(blocks); }

 private:
  std::shared_ptr<bdev> inner_;
};

}  // namespace nvmfd::test
