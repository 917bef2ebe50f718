#pragma once
// gateway_group: one nvmfd's part in a group of gateways that export the same subsystems
// from the same RBD images (docs/gateway.md). Each ANA group of the group is optimized on
// exactly one live gateway, its owner, and non-optimized on the others; the gateways agree
// through leases in the cluster (lease_store.h), never through a protocol of their own.
//
// One round (tick), every lease/4:
//  1. Renew this gateway's membership.
//  2. For an ANA group it owns: renew the lease; hand it over (show non-optimized, mark the
//     owner record released, release the lease) when a hand move requested another live
//     member, or when failback is on and the group's home gateway is live again.
//  3. For one it does not own and nobody holds: take it if this gateway is eligible (the
//     requested owner if that one is live; else the home gateway if live; else anyone).
//     Taking over: fence the previous owner's clients unless it released the group (so a
//     gateway that was cut off and comes back cannot write stale data), take the images'
//     exclusive locks over (gateway_local::take_over), write the owner record, then show
//     optimized. A gateway that comes back never takes a group that another holds: it waits
//     for a free one (or for failback, when configured).
//  4. Show each ANA group: optimized while owned and the last renewal is recent (started less
//     than lease/2 ago), non-optimized while the membership is recent, else inaccessible
//     (cut off from the cluster: its writes could not complete, and its lease is running out).
//     States are re-evaluated after every store call, so a call that hangs up to the store's
//     timeout (lease/4) leaves an optimized group at most lease*3/4 after its last renewal
//     started, before the lease (counted by the cluster from later) can pass to another.
//  5. A store error ESHUTDOWN means another gateway fenced this one: every group is shown
//     inaccessible from then on and the log says to restart nvmfd (its cluster connections
//     are refused by the cluster).
//
// Threads: tick, move and leave on one thread at a time (the runner's loop, which may block);
// state_of and view from any thread (the target asks state_of under its mutex).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "gateway/lease_store.h"
#include "proto/ana_log.h"

namespace nvmfd::gateway {

using clock = std::chrono::steady_clock;

struct group_config {
  std::string name;        // the group, the same on every gateway
  std::string gateway_id;  // this gateway, unique in the group
  std::vector<uint32_t> ana_groups;
  std::map<uint32_t, std::string> home;  // preferred owner of an ANA group (optional)
  bool failback = false;                 // hand a group back to its home when that one is live
  std::chrono::milliseconds lease{10000};
};

// What the group changes on this gateway.
class gateway_local {
 public:
  virtual ~gateway_local() = default;
  // Every listener of every NVM subsystem shows st for ANA group g (AEN where it changed).
  virtual void show(uint32_t g, ana_state st) = 0;
  // Before this gateway serves g as optimized. fenced: the previous owner did not release g
  // and was fenced: its exclusive locks on g's images are broken (it cannot answer a lock
  // request any more) and cached data dropped. Otherwise (a hand-over) the previous owner
  // is alive and gives the locks up when asked (librbd's lock transfer): only the cached
  // data is dropped.
  virtual result<void> take_over(uint32_t g, bool fenced) = 0;
  // This gateway's cluster client addresses (the group's and the images' connections).
  virtual std::vector<std::string> client_addresses() = 0;
};

struct ana_group_view {
  uint32_t anagrpid = 0;
  std::string owner;      // holder at the last round, "" when none
  std::string home;       // configured home, "" when none
  std::string requested;  // a pending hand move, "" when none
  ana_state shown = ana_state::inaccessible;  // what this gateway's listeners show
};

struct group_view {
  std::vector<member> members;  // at the last round
  std::vector<ana_group_view> groups;
  bool fenced = false;
  std::string last_error;  // the last store error, "" after a clean round
};

class gateway_group {
 public:
  // now: the clock every deadline is read from (tests pass their own).
  gateway_group(group_config cfg, lease_store& store, gateway_local& local,
                std::function<clock::time_point()> now = [] { return clock::now(); });

  const group_config& config() const { return cfg_; }
  clock::duration period() const { return cfg_.lease / 4; }
  bool covers(uint32_t g) const { return slot_of(g) != nullptr; }

  void tick();
  // A hand move: g goes to gateway `to` (a live member) at its owner's next round.
  // invalid_argument: g not in the group, `to` not a live member; else the store's errors.
  result<void> move(uint32_t g, const std::string& to);
  // Graceful exit: hands every owned group over (released: nothing to fence) and leaves.
  void leave();

  // What listeners show for g now; nullopt when g is not in the group.
  std::optional<ana_state> state_of(uint32_t g) const;
  group_view view() const;

 private:
  struct slot {
    uint32_t id;
    bool owned = false;
    bool record_released = false;  // our owner record says released while we still hold it
    clock::time_point valid_until{};
    std::atomic<ana_state> shown{ana_state::inaccessible};
    // Last seen, for view() (guarded by view_mu_).
    std::string holder, requested;
  };

  slot* slot_of(uint32_t g);
  const slot* slot_of(uint32_t g) const;
  bool live(const std::string& gateway_id) const;  // a member at the last round
  bool eligible(const slot& s, const std::string& requested) const;
  std::string handover_target(const slot& s, const std::string& requested) const;
  void round();
  void round_for(slot& s, clock::time_point start);
  void take_over(slot& s, clock::time_point start);
  void hand_over(slot& s, const std::string& to);
  void show_all();
  void show(slot& s);
  // Records a store error; returns true if it says this gateway was fenced.
  bool failed(const error& e, std::string_view what);

  group_config cfg_;
  lease_store& store_;
  gateway_local& local_;
  std::function<clock::time_point()> now_;
  std::vector<std::unique_ptr<slot>> slots_;
  clock::time_point member_until_{};
  std::atomic<bool> fenced_{false};
  std::atomic<bool> left_{false};  // leave() ran: no more rounds
  std::vector<member> members_;  // last round's
  mutable std::mutex view_mu_;   // guards members_, slot holder/requested and last_error_
  std::string last_error_;
  std::string round_error_;  // the tick thread's, published as last_error_ after the round
};

}  // namespace nvmfd::gateway
