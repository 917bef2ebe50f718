#pragma once
// target_transport: one NVMe-oF transport of the target (NVMe/TCP today; NVMe/RDMA plugs in
// here), owned by nvmf_target. The core knows a transport only through this interface: it
// asks it to listen on a subsystem's listen_address, reads the limits its queues report,
// and lets it describe its listeners in the discovery log. The transport creates its queues
// (target_queue) for the connections it accepts and hands them to the target
// (nvmf_target::adopt_queue), which owns them until the transport releases them
// (nvmf_target::release_queue).
//
// Threading: listen() and destroying a listener run on the control thread; name(), limits()
// and describe() on any thread (they read what was fixed at creation).
// Lifetime: created by whatever configures the target (nvmf_create_transport), added with
// nvmf_target::add_transport, destroyed with the target after every queue is released.
#include <memory>
#include <string_view>

#include "base/result.h"
#include "proto/discovery_log.h"
#include "target/queue_limits.h"
#include "target/subsystem.h"

namespace nvmfd {

// A transport's listening port: destroying it stops listening (connections already
// accepted stay). Made by target_transport::listen.
class transport_listener {
 public:
  virtual ~transport_listener() = default;
};

class target_transport {
 public:
  virtual ~target_transport() = default;
  // The transport type as listen_address::trtype and the RPC spell it ("TCP").
  virtual std::string_view name() const = 0;
  // What its queues report and enforce (the discovery log's ASQSZ is max_aq_depth).
  virtual queue_limits limits() const = 0;
  // The transport fields of a discovery log entry for its listener a: TRTYPE, TSAS.
  virtual void describe(discovery_log_entry& e, const listen_address& a) const = 0;
  // Starts listening on a (a.trtype is name()); connections accepted there become this
  // transport's queues. Control thread.
  virtual result<std::unique_ptr<transport_listener>> listen(const listen_address& a) = 0;
};

}  // namespace nvmfd
