#pragma once
// rdma_transport: the NVMe/RDMA transport of the target (target_transport), on rdma-core's
// librdmacm and libibverbs. It owns one RDMA CM event channel, watched on reactor 0: a
// connect request is checked (rdma_connect_request.h) and becomes an rdma_qpair on the next
// reactor round-robin, which the target owns (nvmf_target::adopt_queue); later events of a
// connection (established, disconnected, device removal) are passed to its queue pair's
// reactor. Per RDMA device it keeps an rdma_device (protection domain, registered buffers).
//
// Threading: create() and listen() on the control thread; CM events on reactor 0; the
// device and connection tables are reactor 0's. Its options are fixed at creation.
// Lifetime: destroyed with the target, after every queue pair is released.
#include <rdma/rdma_cma.h>

#include <atomic>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "reactor/reactor.h"
#include "target/data_buffer_budget.h"
#include "target/rdma/rdma_device.h"
#include "target/rdma/rdma_transport_options.h"
#include "target/target_transport.h"

namespace nvmfd {

class nvmf_target;
class target_queue;

// Where a connection's CM events go: its queue pair, on its reactor (qp is set and read there).
struct rdma_conn_link {
  reactor* r = nullptr;
  std::weak_ptr<target_queue> qp;
};

class rdma_transport final : public target_transport, public event_handler {
 public:
  static constexpr std::string_view trtype = "RDMA";

  // Fails when this machine has no RDMA device or no RDMA CM (the error says how to add a
  // soft-RoCE device).
  static result<std::unique_ptr<rdma_transport>> create(nvmf_target& t, const rdma_transport_options& opts);
  ~rdma_transport() override;

  std::string_view name() const override { return trtype; }
  queue_limits limits() const override { return limits_of(opts_); }
  // TRTYPE rdma; TSAS: connected QPs, provider type not specified, RDMA CM.
  void describe(discovery_log_entry& e, const listen_address& a) const override;
  result<std::unique_ptr<transport_listener>> listen(const listen_address& a) override;

  const rdma_transport_options& options() const { return opts_; }
  data_buffer_budget& buffers() { return buffers_; }
  rdma_event_channel* channel() const { return channel_; }

  // CM events (reactor 0).
  void on_events(uint32_t events) override;
  // A queue pair is gone (its QP destroyed): its CM id is destroyed on reactor 0. Any thread.
  void forget(rdma_cm_id* id);

 private:
  rdma_transport(nvmf_target& t, const rdma_transport_options& opts, rdma_event_channel* ch);
  void on_connect_request(rdma_cm_event& ev);
  void reject(rdma_cm_id* id, uint16_t status, const std::string& why);
  result<std::shared_ptr<rdma_device>> device_of(ibv_context* ctx);

  nvmf_target& target_;
  const rdma_transport_options opts_;
  data_buffer_budget buffers_;
  rdma_event_channel* channel_;
  std::atomic<unsigned> next_reactor_{0};
  // Reactor 0's:
  std::unordered_map<ibv_context*, std::shared_ptr<rdma_device>> devices_;
  std::unordered_map<rdma_cm_id*, std::shared_ptr<rdma_conn_link>> conns_;
};

}  // namespace nvmfd
