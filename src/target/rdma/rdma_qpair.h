#pragma once
// rdma_qpair: the target side of one NVMe/RDMA connection, i.e. one queue pair (admin or
// I/O): the RDMA transport's target_queue. An RC queue pair made for an accepted RDMA CM
// connect request, with a completion queue of its own whose completion channel is watched
// by the reactor (and polled in its poll window, as sockets are).
//
// Commands arrive by SEND into receive buffers posted in advance (one per queue entry, each
// the SQE plus in_capsule_data_size bytes, registered once per queue pair). A command's
// data is in the capsule (SGL data block, offset 0) or in a host buffer named by a keyed
// SGL: the transport reads it with RDMA READ before the command executes (at most the
// READ depth the host allows outstanding; more wait in order) and writes a read's data with
// RDMA WRITE before the response. Data buffers come from the device's registered pool for
// this reactor, within the transport's budget. A response goes by SEND (SEND with
// Invalidate when the host's keyed SGL asked for it), after the command's receive buffer
// is posted again. Every work request is signalled, so each completes exactly once.
// Anything wrong from the wire that is not a command's fault (a capsule shorter than an
// SQE, more commands than entries, a failed work request) closes this connection only.
//
// Threading: everything here runs on the owning reactor; CM events are posted to it.
// Lifetime: after close() the QP is moved to the error state; once every work request has
// completed (flushed) and every bdev I/O is back, the queue is released
// (nvmf_target::release_queue, which destroys it): the QP, CQ and registrations go, and the
// CM id is handed to the transport (rdma_transport::forget).
#include <rdma/rdma_cma.h>

#include <memory>
#include <string_view>
#include <vector>

#include "base/intrusive_fifo.h"
#include "rdma/rdma_cq.h"
#include "reactor/reactor.h"
#include "target/rdma/rdma_connect_request.h"
#include "target/rdma/rdma_device.h"
#include "target/rdma/rdma_request.h"
#include "target/target_queue.h"

namespace nvmfd {

class rdma_transport;

class rdma_qpair final : public target_queue, public event_handler {
 public:
  // ord: RDMA READs this queue may have outstanding (the host's responder resources, within
  // the device's limit).
  rdma_qpair(nvmf_target& t, reactor& r, rdma_transport& tr, rdma_cm_id* id, std::shared_ptr<rdma_device> dev,
             const rdma_queue_request& q, uint8_t ord);
  ~rdma_qpair() override;

  // Makes the CQ, the QP and the receive buffers, posts them and accepts the connection;
  // on failure rejects it (no resources) and closes.
  void accept();
  // A CM event of this connection (posted by the transport).
  void on_cm_event(rdma_cm_event_type type, int status);

  // target_queue
  void complete(target_request& req, nvme_status st) override;
  void disconnect_after_response() override { close_after_send_ = true; }
  void close(std::string_view why) override;

  // The completion channel is readable.
  void on_events(uint32_t events) override;
  // Called by rdma_request when its bdev I/O is done.
  void on_io_done(rdma_request& req);

 private:
  enum class wr_kind : uint64_t { recv = 0, read = 1, write = 2, send = 3 };
  static uint64_t wr_id(wr_kind k, uint32_t index) { return uint64_t{index} << 2 | static_cast<uint64_t>(k); }

  result<void> setup();
  void on_completion(const ibv_wc& wc);
  void on_recv(uint32_t slot, uint32_t len);
  void start_command(rdma_request& req, uint32_t extra);
  nvme_status check_data(rdma_request& req);
  void start_data_phase(rdma_request& req);
  bool take_data_buffer(rdma_request& req);
  void wait_for_buffer(rdma_request& req);
  void arm_buffer_retry();
  void retry_buffer_waiters();
  void post_read(rdma_request& req);   // now, or queued behind the ord_ limit
  void issue_read(rdma_request& req);  // posts the RDMA READ
  void start_queued_reads();
  void execute(rdma_request& req);
  bool post_recv(uint32_t slot);
  void release_request(rdma_request& req);
  rdma_request* alloc_request();
  void maybe_release();
  std::byte* recv_buf(uint32_t slot) const { return recv_mem_->data() + size_t{slot} * recv_size_; }

  rdma_transport& transport_;
  rdma_cm_id* id_;
  std::shared_ptr<rdma_device> dev_;
  rdma_queue_request qreq_;
  uint8_t ord_;
  uint32_t recv_size_;

  enum class conn_state : uint8_t { connecting, ready, closed };
  conn_state state_ = conn_state::connecting;
  bool close_after_send_ = false;
  bool released_ = false;
  bool watching_ = false;

  std::unique_ptr<rdma_cq> cq_;
  ibv_qp* qp_ = nullptr;
  std::unique_ptr<registered_memory> recv_mem_;  // queue size x recv_size_
  std::unique_ptr<registered_memory> resp_mem_;  // one 16-byte CQE per request slot
  uint32_t wrs_outstanding_ = 0;   // work requests posted and not yet completed
  uint32_t reads_outstanding_ = 0;

  std::vector<std::unique_ptr<rdma_request>> requests_;
  rdma_request* free_list_ = nullptr;
  intrusive_fifo<rdma_request, &rdma_request::next> read_queue_;  // waiting for a READ slot (ord_)
  intrusive_fifo<rdma_request, &rdma_request::next> buffer_waiters_;  // waiting for a data buffer
  timer_id buffer_retry_timer_ = 0;
};

}  // namespace nvmfd
