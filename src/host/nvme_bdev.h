#pragma once
// nvme_bdev: a block device backed by one namespace of a remote NVMe-oF controller
// (SPDK's bdev_nvme, "<name>n<nsid>"). I/O submitted on a reactor goes to that reactor's
// I/O queue of the controller; requests larger than the controller's MDTS or than 65536
// blocks are split and run in sequence; when the queue is full, an I/O waits in the queue's
// FIFO of slot waiters (the entry lives in bdev_io::backend_ctx) and starts as a slot frees
// up, whichever namespace freed it. No allocation per I/O.
// A failed controller completes I/O with -EIO (path errors) at once.
#include <memory>
#include <vector>

#include "bdev/bdev.h"
#include "host/host_controller.h"

namespace nvmfd {

class nvme_bdev final : public bdev, public host_callback, public slot_waiter_callback {
 public:
  nvme_bdev(std::string name, std::shared_ptr<host_controller> ctrl, const remote_namespace& ns, unsigned reactors);

  std::string_view product_name() const override { return "NVMe disk"; }
  bool has_volatile_cache() const override;
  bool supports(bdev_op op) const override;
  void submit(bdev_io& io) override;
  void on_host_complete(host_request& req, const nvme_completion& c) override;
  void on_slot_free(host_qpair& q, slot_waiter& w) override;

  uint32_t nsid() const { return nsid_; }
  const std::shared_ptr<host_controller>& controller() const { return ctrl_; }

  struct io_state;  // per-I/O state in bdev_io::backend_ctx

 private:
  bool start_next_chunk(bdev_io& io, host_qpair& q);
  void finish(bdev_io& io, int status);
  void start_or_wait(bdev_io& io, host_qpair& q);

  std::shared_ptr<host_controller> ctrl_;
  uint32_t nsid_;
  uint32_t max_blocks_per_cmd_;
};

}  // namespace nvmfd
