#pragma once
// bdev_qos: the rate limits of one bdev, enforced in bdev::submit for every user of the bdev
// on every reactor (SPDK's bdev QoS). Created by the bdev on the first bdev_set_qos_limit and
// kept for the bdev's life (limits change in place); shared_ptr-owned so that a reactor's
// resubmission timer keeps it alive.
//
// Per limit, a qos_bucket shared by all reactors; each reactor takes tokens from it in grants
// (a quarter of a millisecond's worth, one atomic compare-exchange per grant) into a balance of
// its own, from which its I/Os are paid with plain arithmetic. So an I/O under the limit costs
// no atomic read-modify-write and no lock.
//
// What is limited (as SPDK): reads and writes. A read pays 1 rw I/O, its bytes of rw and of r;
// a write 1 rw I/O, its bytes of rw and of w. Flush, unmap and write_zeroes pass unlimited:
// SPDK exempts them too (they move no data through the bdev's channel).
//
// An I/O that cannot be paid waits, never fails: it joins its reactor's FIFO of reads or of
// writes (intrusive, through bdev_io::qos_next; no allocation), behind which later I/Os of
// that kind on that reactor queue too (reads and writes apart, so that a write held by
// w_mbytes_per_sec does not hold the reads; SPDK keeps one queue), and a reactor timer (every millisecond while the FIFO is not empty) resubmits what the
// buckets then pay for. The statistics stamp from the first submit stays, so the latency that
// bdev_get_iostat reports includes the wait.
//
// Deleting the bdev (bdev_registry::remove) clears its limits: waiting I/Os are resubmitted
// by the next timer shot (within about a millisecond) and complete as usual; none is lost.
//
// Threads: set_limits and limits on the control thread (limits() from any); admit and the
// timer on the reactor that submitted the I/O. A reactor's state is allocated by that reactor
// on its first limited I/O. Reactor indexes from max_reactors on are not limited.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "bdev/qos_bucket.h"
#include "bdev/qos_limits.h"

namespace nvmfd {

struct bdev_io;
class bdev;
class reactor;

class bdev_qos : public std::enable_shared_from_this<bdev_qos> {
 public:
  static constexpr unsigned max_reactors = 256;
  static constexpr std::chrono::milliseconds retry_interval{1};

  explicit bdev_qos(bdev& b);
  ~bdev_qos();

  void set_limits(const qos_limits& l);
  qos_limits limits() const;

  // io's reactor: true when io may be submitted now (paid for); false when it was queued and
  // will be passed to the bdev's do_submit later on this reactor.
  bool admit(bdev_io& io);

 private:
  enum bucket_index : unsigned { rw_ios, rw_bytes, r_bytes, w_bytes, n_buckets };
  struct reactor_state;

  // What io costs in each bucket (0 for a bucket without a limit).
  void cost(const bdev_io& io, uint64_t (&need)[n_buckets]) const;
  bool pay(reactor_state& s, const bdev_io& io);
  reactor_state* state_for(unsigned r);
  void arm(reactor& r, reactor_state& s);
  void drain(reactor& r, reactor_state& s);

  bdev& bdev_;
  uint64_t tick_rate_;
  std::array<qos_bucket, n_buckets> buckets_;
  mutable std::mutex limits_mu_;
  qos_limits limits_;
  std::array<std::atomic<reactor_state*>, max_reactors> reactors_{};
};

}  // namespace nvmfd
