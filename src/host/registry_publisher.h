#pragma once
// registry_publisher: republishes the path tables of nvme_controller_registry entries whose
// paths changed, as a job on the pool's control reactor (no thread of its own).
//
// A round takes the entries marked dirty so far and:
//  1. builds and publishes their bdevs' tables, taking the controllers their paths retired
//     (the registry's build function, under the registry's lock);
//  2. without that lock, has every reactor take the new tables (nvme_bdev::refresh_on, one
//     post_all round);
//  3. only then disconnects the retired controllers (host_controller::disconnect_async), so a
//     reactor never holds the last reference to one;
// then the next round starts at once if marks came meanwhile (they are coalesced), else the
// job idles until the next mark. One round at a time.
//
// Threads: mark_dirty from any thread, reactors included (it never blocks); publish_async on
// the control reactor; publish_and_wait and stop from threads that may block (never a
// reactor). The rounds run on the control reactor. After stop() returns, build is never
// called again; a mark after it is dropped.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "host/host_controller.h"
#include "host/nvme_bdev.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"

namespace nvmfd {

class registry_publisher : public std::enable_shared_from_this<registry_publisher> {
 public:
  // What step 1 of a round leaves for steps 2 and 3.
  struct published {
    std::vector<std::shared_ptr<nvme_bdev>> bdevs;              // their tables changed
    std::vector<std::shared_ptr<host_controller>> retired;      // to disconnect after the refresh
  };
  // Step 1 for the entries of the given ids (ids of entries gone are skipped).
  using build_fn = std::function<published(const std::set<uint64_t>& ids)>;

  static std::shared_ptr<registry_publisher> make(reactor_pool& pool, build_fn build);

  void mark_dirty(uint64_t id);
  // On the control reactor: marks id dirty; done (on the control reactor, never inline) once
  // a round that took it has ended: every reactor uses the entry's new tables then. After
  // stop(): done at once.
  void publish_async(uint64_t id, completion<void> done);
  // publish_async, waited for on the calling thread.
  void publish_and_wait(uint64_t id);
  // Lets the round in flight (if any) end and runs none after it.
  void stop();

 private:
  registry_publisher(reactor_pool& pool, build_fn build) : pool_(pool), build_(std::move(build)) {}
  void schedule_locked();
  // --- control reactor ---
  void run_round();
  void refresh_then_disconnect(published work);
  void round_ended();
  void idle();

  reactor_pool& pool_;
  build_fn build_;

  std::mutex mu_;
  std::set<uint64_t> dirty_;  // under mu_
  bool scheduled_ = false;    // under mu_: a round is posted or running
  bool stopping_ = false;     // under mu_

  // Control reactor only.
  uint64_t rounds_started_ = 0;
  uint64_t rounds_ended_ = 0;
  std::vector<std::pair<uint64_t, completion<void>>> waiters_;  // (the round that must end, done)
  completion<void> stopped_;
};

}  // namespace nvmfd
