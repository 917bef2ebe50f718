#pragma once
// lease_store: what a gateway group (gateway_group.h) needs from the shared store it
// coordinates through. The production store is RADOS (rados_lease_store.h); the group's
// decisions are tested against a store in memory with the same rules (tests/gateway).
//
// Model, per group (name) in one pool:
//  - Membership: each live gateway holds a lease on the members object, renewed by join();
//    members() lists the gateways whose lease has not expired.
//  - Ownership of ANA group g: at most one gateway holds g's lease. acquire() takes it when
//    nobody holds it (never expired, released, or its holder stopped renewing for a whole
//    lease); renew() extends it only for the same holder (same gateway AND same connection:
//    a restarted gateway is a new holder and cannot renew its earlier self's lease).
//  - Each ANA group also keeps two records beside the lease: the owner record (the gateway
//    and its client addresses, written by the owner after it took the lease; what a taker
//    fences) and a requested owner (set by a hand move, cleared by the gateway it names once
//    that one holds the lease).
//  - fence(addresses) blocklists those client addresses in the cluster and returns once this
//    connection's view of the cluster includes it, so that any write issued afterwards by
//    this gateway is ordered after the fence (writes of a fenced client are refused).
//
// Threads: one caller at a time (the group's own thread); every call may block, for at most
// the store's operation timeout. Errors are io_error with the store's errno (timed_out when
// the cluster does not answer; sys_errno ESHUTDOWN when this connection itself was fenced).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace nvmfd::gateway {

struct member {
  std::string gateway_id;
  std::string address;  // the client address its lease was taken from
};

struct owner_record {
  std::string gateway_id;
  std::vector<std::string> addresses;  // every cluster client of that gateway (group + images)
  bool released = false;               // handed over on purpose: nothing to fence
};

class lease_store {
 public:
  virtual ~lease_store() = default;

  virtual result<void> join(std::chrono::milliseconds lease) = 0;
  virtual result<std::vector<member>> members() = 0;
  // Ends this gateway's membership at once (a graceful exit), rather than when it expires.
  virtual result<void> leave() = 0;

  // true: this gateway now holds g's lease; false: another holds it.
  virtual result<bool> acquire(uint32_t g, std::chrono::milliseconds lease) = 0;
  // true: extended; false: this connection no longer holds it (expired and free, or taken).
  virtual result<bool> renew(uint32_t g, std::chrono::milliseconds lease) = 0;
  virtual result<void> release(uint32_t g) = 0;
  // The gateway_id holding g's lease now, "" when none.
  virtual result<std::string> holder(uint32_t g) = 0;

  virtual result<std::optional<owner_record>> read_owner(uint32_t g) = 0;
  virtual result<void> write_owner(uint32_t g, const owner_record& r) = 0;
  virtual result<std::string> requested_owner(uint32_t g) = 0;  // "" when none
  virtual result<void> request_owner(uint32_t g, const std::string& gateway_id) = 0;  // "" clears

  virtual result<void> fence(const std::vector<std::string>& addresses) = 0;
  // This gateway's own client address in the store (never fenced by itself).
  virtual std::string own_address() const = 0;
};

}  // namespace nvmfd::gateway
