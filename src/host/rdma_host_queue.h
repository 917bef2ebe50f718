#pragma once
// rdma_host_queue: a host_queue (host_queue.h: threading, completion and lifetime rules) over
// one NVMe/RDMA connection (NVMe-oF 1.1, 7.3): an RC queue pair reached through the RDMA CM.
//
// Connecting does not block the reactor: start() opens a CM event channel of the queue's own
// (its fd watched by the reactor) and resolves the address, then the route; on ROUTE_RESOLVED
// it makes a protection domain, a completion queue (its completion channel watched by the
// reactor, as the target's queue pairs are), the QP and the registered buffers, posts a
// receive per slot and connects with the RDMA_CM_REQUEST private data
// (rdma_connect_data.h). Commands submitted before ESTABLISHED wait and are sent then. A
// reject fails the queue with the controller's reject status in the message; so do an
// address, route or connect error, DISCONNECTED, and a failed work request. The queue's
// command timeout (the Fabrics Connect's, while connecting) bounds the whole handshake.
//
// Data: memory is registered once per queue, not per I/O. Each slot owns a bounce buffer of
// params.max_data bytes in one region registered LOCAL_WRITE | REMOTE_READ | REMOTE_WRITE;
// a command's keyed SGL names its slot's buffer (address, the command's length, the rkey).
// Write data is copied into the bounce buffer when sent; read data is copied out to the
// caller's buffer when the completion arrives. So the caller's buffer is never read or
// written by the device, and a failed command's buffer is the caller's again at once. A
// command longer than max_data fails the queue (the controller's max transfer is capped to
// it for RDMA controllers, so callers never ask for more).
//
// Completions arrive by RECV in 16-byte buffers (one per slot, reposted at once). A
// completion that comes before our SEND of the command has completed is held (answered)
// until it has: the SQE buffer and the bounce buffer are not reused while the HCA may read
// them. Every work request is signalled.
//
// Lifetime: after fail(), the QP goes to the error state and every posted work request
// completes (flushed); the queue holds a reference to itself until then, and only then are
// the QP, CQ, channels, MRs, PD and CM id destroyed (on the reactor).
#include <rdma/rdma_cma.h>

#include <memory>
#include <string>
#include <vector>

#include "host/host_queue.h"
#include "rdma/rdma_cq.h"

namespace nvmfd {

struct rdma_host_queue_params {
  qid_t qid = admin_qid;
  uint16_t queue_size = 32;          // slots (>= 2)
  uint16_t cntlid = 0xffff;          // the controller's ID, for I/O queues' private data
  std::string traddr;                // numeric IPv4 or IPv6 address
  uint16_t port = 4420;
  uint32_t max_data = 128 * 1024;    // bounce buffer per slot: the largest transfer
  uint32_t resolve_timeout_ms = 2000;  // each of rdma_resolve_addr and rdma_resolve_route
  uint32_t io_timeout_ms = 30000;    // 0: no timeout
};

class rdma_host_queue final : public host_queue, public event_handler {
 public:
  // The bounce buffer size RDMA controllers' transfers are capped to (controller_connector).
  static constexpr uint32_t default_max_data = 128 * 1024;

  rdma_host_queue(reactor& r, const rdma_host_queue_params& p);
  ~rdma_host_queue() override;

  // On the reactor: starts the CM handshake. A failure fails the queue.
  void start() override;
  // The completion channel is readable.
  void on_events(uint32_t events) override;

 private:
  enum class conn_state : uint8_t { idle, resolving_addr, resolving_route, connecting, ready, closed };
  enum class wr_kind : uint64_t { recv = 0, send = 1 };
  static uint64_t wr_id(wr_kind k, uint32_t index) { return uint64_t{index} << 1 | static_cast<uint64_t>(k); }

  // Forwards the CM channel's readiness (the queue itself watches the completion channel).
  struct cm_watch final : event_handler {
    rdma_host_queue* q = nullptr;
    void on_events(uint32_t) override { q->on_cm_events(); }
  };

  void send(host_request& req) override;
  void close_transport() override;

  void on_cm_events();
  void on_cm_event(const rdma_cm_event& ev);
  result<void> setup_and_connect();
  result<void> make_resources();
  void post_command(host_request& req);
  bool post_recv(uint32_t i);
  void on_completion(const ibv_wc& wc);
  void on_response(uint32_t recv_index, uint32_t len);
  void fail_later(std::string why);
  void maybe_release();
  void destroy();
  std::byte* bounce(uint32_t slot) const { return data_mem_->data() + size_t{slot} * params_.max_data; }

  rdma_host_queue_params params_;
  conn_state state_ = conn_state::idle;
  cm_watch cm_watch_;
  rdma_event_channel* cm_ch_ = nullptr;
  rdma_cm_id* id_ = nullptr;
  ibv_pd* pd_ = nullptr;
  std::unique_ptr<rdma_cq> cq_;
  bool qp_made_ = false;
  bool cm_watched_ = false;
  bool cq_watched_ = false;
  std::unique_ptr<registered_memory> cmd_mem_;   // one SQE per slot
  std::unique_ptr<registered_memory> resp_mem_;  // one CQE per receive
  std::unique_ptr<registered_memory> data_mem_;  // one bounce buffer per slot
  uint32_t wrs_outstanding_ = 0;
  std::vector<uint8_t> send_posted_;  // by slot: the SEND of its SQE has not completed
  std::vector<uint16_t> waiting_;     // slots submitted before ESTABLISHED, in order
  std::shared_ptr<host_queue> self_;  // after fail(), until every work request is flushed
  bool released_ = false;
};

}  // namespace nvmfd
