#pragma once
// gateway_runner: one gateway group (gateway_group.h) at work in nvmfd: its own thread
// ("gw-<name>", a loop that may block in librados), its own cluster connection (so that its
// calls time out after lease/4 whatever the bdevs' connections are set to, and so that its
// client address, which the owner record names, is its own), the RADOS lease store on it,
// and a round every lease/4 from a timer on that loop.
//
// Threads: construction, begin, stop, move on the control thread (they wait for the loop);
// view and state_of from any thread.
#include <memory>
#include <string>

#include "bdev/rbd/rbd_cluster.h"
#include "gateway/gateway_group.h"
#include "gateway/rados_lease_store.h"
#include "gateway/target_gateway_local.h"
#include "reactor/loop_thread.h"
#include "reactor/reactor_timer.h"

namespace nvmfd::gateway {

struct runner_params {
  group_config group;
  std::string cluster_name;  // the registered cluster whose options the connection copies
  std::string pool = "rbd";  // where the group's objects live
};

class gateway_runner {
 public:
  // Connects (blocks up to lease/4 per monitor call) and opens the pool. Errors: the
  // cluster's (io_error, timed_out), not_found for a missing pool.
  static result<std::unique_ptr<gateway_runner>> create(runner_params p, const rbd_cluster& registered,
                                                        nvmf_target& target);
  ~gateway_runner();  // stop()
  gateway_runner(const gateway_runner&) = delete;
  gateway_runner& operator=(const gateway_runner&) = delete;

  // The first round, then one every lease/4.
  void begin();
  // Hands every owned ANA group over and leaves the group (graceful exit); idempotent.
  void stop();
  result<void> move(uint32_t g, const std::string& to);

  const runner_params& params() const { return params_; }
  const gateway_group& group() const { return group_; }

 private:
  gateway_runner(runner_params p, std::shared_ptr<rbd_cluster> conn, std::unique_ptr<rados_lease_store> store,
                 nvmf_target& target);
  void round();  // on the loop

  runner_params params_;
  std::shared_ptr<rbd_cluster> conn_;
  std::unique_ptr<rados_lease_store> store_;
  target_gateway_local local_;
  gateway_group group_;
  loop_thread loop_;
  std::unique_ptr<reactor_timer> timer_;  // the loop's
  bool begun_ = false;
  bool stopped_ = false;
};

}  // namespace nvmfd::gateway
