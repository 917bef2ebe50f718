#include "target/controller.h"

#include <algorithm>

#include "base/log.h"
#include "proto/features.h"
#include "proto/controller_properties.h"
#include "proto/log_pages.h"
#include "target/nvmf_target.h"
#include "target/subsystem.h"
#include "target/target_queue.h"

namespace nvmfd {

namespace {
// The NVM command set's queue entry sizes, log2 bytes (Identify SQES/CQES minimum).
constexpr uint8_t nvm_iosqes = 6;
constexpr uint8_t nvm_iocqes = 4;
}  // namespace

controller::controller(nvmf_target& t, std::shared_ptr<subsystem> s, cntlid_t cntlid, std::string hostnqn,
                       uuid hostid, uint32_t kato, reactor& admin_reactor, uint16_t max_io_queues)
    : target_(t),
      subsys_(std::move(s)),
      cntlid_(cntlid),
      hostnqn_(std::move(hostnqn)),
      hostid_(hostid),
      admin_reactor_(admin_reactor),
      max_io_queues_(max_io_queues),
      granted_kato_ms_(kato),
      stats_(new queue_stats[size_t{max_io_queues} + 1]) {
  kato_ms = kato;
}

controller::~controller() = default;

bool controller::is_discovery() const { return subsys_->type() == subsystem_kind::discovery; }

void controller::attach_admin_queue(target_queue* q) {
  admin_queue_ = q;
  keep_alive();
  arm_keep_alive_timer();
}

void controller::set_kato(uint32_t ms) {
  kato_ms = ms;
  keep_alive();
  if (ka_timer_) admin_reactor_.cancel(ka_timer_);
  ka_timer_ = 0;
  if (admin_queue_) arm_keep_alive_timer();
}

void controller::arm_keep_alive_timer() {
  if (kato_ms == 0) return;
  auto period = std::chrono::milliseconds(std::max<uint32_t>(100, std::min<uint32_t>(kato_ms / 2, 1000)));
  std::weak_ptr<controller> weak = weak_from_this();
  ka_timer_ = admin_reactor_.schedule(period, [weak] {
    auto c = weak.lock();
    if (!c || !c->admin_queue_) return;
    c->ka_timer_ = 0;
    auto idle = c->admin_reactor_.now() - c->last_keep_alive_;
    if (c->kato_ms && idle > std::chrono::milliseconds(c->kato_ms)) {
      NVMFD_LOG_WARN("controller {} of {} (host {}): keep-alive timeout ({} ms), closing", c->cntlid_,
                     c->subsys_->nqn(), c->hostnqn_, c->kato_ms);
      c->admin_queue_->close("keep-alive timeout");
      return;
    }
    c->arm_keep_alive_timer();
  });
}

void controller::detach_admin_queue() {
  if (ka_timer_) admin_reactor_.cancel(ka_timer_);
  ka_timer_ = 0;
  admin_queue_ = nullptr;
  parked_aers_.clear();
  enabled = false;
  {
    std::lock_guard lk(io_mu_);
    ended_ = true;
  }
  close_io_queues("admin queue closed");
  std::lock_guard lk(target_.mu());
  auto& ctrls = subsys_->controllers();
  auto it = ctrls.find(cntlid_);
  if (it != ctrls.end()) {
    auto mine = it->second.lock();
    if (!mine || mine.get() == this) ctrls.erase(it);
  }
}

// Base 2.0 3.1.4.5 and 3.5.1: the values CC.EN = 1 is written with must be ones the controller
// supports (CAP.MPSMIN..MPSMAX, CAP.CSS, arbitration; I/O entry sizes for an I/O controller);
// otherwise CSTS.CFS, as Linux nvmet answers. A discovery controller has no I/O queues, so its
// entry sizes are not checked (Linux nvmet does not either).
bool controller::cc_supported(uint32_t value) const {
  cc_register r{value};
  if (r.mps() != 0 || r.ams() != 0 || r.css() != cc_css_nvm) return false;
  if (!is_discovery() && (r.iosqes() != nvm_iosqes || r.iocqes() != nvm_iocqes)) return false;
  return true;
}

void controller::write_cc(uint32_t value) {
  cc_register old{cc}, now{value};
  cc = value;
  if (now.en() && !old.en()) {
    if (!cc_supported(value)) {
      NVMFD_LOG_WARN("controller {} of {} (host {}): CC {:#x} names values the controller does not support, "
                     "setting CSTS.CFS",
                     cntlid_, subsys_->nqn(), hostnqn_, value);
      csts = csts_bits::cfs;
      enabled = false;
      return;
    }
    csts = csts_bits::rdy;
    enabled = true;
  } else if (!now.en() && old.en()) {
    // Controller reset: I/O queues go away (NVMe Base 2.0 3.7.2).
    csts &= ~csts_bits::rdy;
    enabled = false;
    close_io_queues("controller reset (CC.EN 1 -> 0)");
  }
  if (now.shn() != shutdown_notification::none) {
    csts = (csts & ~csts_bits::shst_mask) | (uint32_t(shutdown_status::complete) << 2);
  } else if (old.shn() != shutdown_notification::none) {
    csts &= ~csts_bits::shst_mask;
  }
}

bool controller::park_aer(target_request& req) {
  if (parked_aers_.size() >= max_outstanding_aers) return false;
  parked_aers_.push_back(&req);
  deliver_events();
  return true;
}

void controller::deliver_events() {
  while (admin_queue_ && !parked_aers_.empty() && !pending_events_.empty()) {
    target_request* req = parked_aers_.front();
    parked_aers_.erase(parked_aers_.begin());
    req->cqe.dw0 = pending_events_.front();
    pending_events_.pop_front();
    admin_queue_->complete(*req, nvme_status::success());
  }
}

void controller::notice_namespaces_changed(const std::vector<nsid_t>& nsids) {
  for (nsid_t id : nsids) {
    if (changed_ns_overflow_) break;
    if (std::find(changed_ns_.begin(), changed_ns_.end(), id) != changed_ns_.end()) continue;
    if (changed_ns_.size() >= 1024) {
      changed_ns_overflow_ = true;
      changed_ns_.clear();
      break;
    }
    changed_ns_.push_back(id);
  }
  if (!(aec & aec_bits::namespace_attribute) || notice_ns_masked_) return;
  notice_ns_masked_ = true;
  pending_events_.push_back(aer_result(static_cast<uint8_t>(aer_type::notice),
                                       static_cast<uint8_t>(aer_notice::namespace_attribute_changed),
                                       static_cast<uint8_t>(log_page_id::changed_namespace_list)));
  deliver_events();
}

void controller::notice_discovery_log_changed() {
  // NVMe-oF 1.1 5.3 / Base 2.0 5.2: one event until the host reads the Discovery log page.
  if (!(aec & aec_bits::discovery_log_change) || notice_discovery_masked_) return;
  notice_discovery_masked_ = true;
  pending_events_.push_back(aer_result(static_cast<uint8_t>(aer_type::notice),
                                       static_cast<uint8_t>(aer_notice::discovery_log_change),
                                       static_cast<uint8_t>(log_page_id::discovery)));
  deliver_events();
}

void controller::notice_ana_changed() {
  // Base 2.0 8.20.4: one ANA change notice until the host reads the ANA log without RAE.
  if (!(aec & aec_bits::ana_change) || notice_ana_masked_) return;
  notice_ana_masked_ = true;
  pending_events_.push_back(aer_result(static_cast<uint8_t>(aer_type::notice),
                                       static_cast<uint8_t>(aer_notice::ana_change),
                                       static_cast<uint8_t>(log_page_id::ana)));
  deliver_events();
}

std::vector<nsid_t> controller::take_changed_namespaces(bool clear) {
  std::vector<nsid_t> out = changed_ns_overflow_ ? std::vector<nsid_t>{broadcast_nsid} : changed_ns_;
  if (clear) {
    changed_ns_.clear();
    changed_ns_overflow_ = false;
  }
  return out;
}

void controller::unmask_notice(uint8_t log_page) {
  if (log_page == static_cast<uint8_t>(log_page_id::changed_namespace_list)) notice_ns_masked_ = false;
  if (log_page == static_cast<uint8_t>(log_page_id::discovery)) notice_discovery_masked_ = false;
  if (log_page == static_cast<uint8_t>(log_page_id::ana)) notice_ana_masked_ = false;
}

void controller::notice_reservation(nsid_t nsid, reservation_notice n) {
  if (reservation_mask(nsid) & reservation_mask_bit(n)) return;
  if (!resv_log_.add(nsid, n))
    NVMFD_LOG_WARN("controller {} of host '{}': reservation notification log full, a notice for nsid {} is lost",
                   cntlid_, hostnqn_, nsid);
  announce_reservation_log();
}

void controller::announce_reservation_log() {
  if (notice_resv_masked_ || resv_log_.empty()) return;
  notice_resv_masked_ = true;
  pending_events_.push_back(aer_result(aer_type::io_command_set, aer_info_reservation_log_available,
                                       static_cast<uint8_t>(log_page_id::reservation_notification)));
  deliver_events();
}

reservation_notification_log controller::take_reservation_notice(bool rae) {
  auto e = resv_log_.take();
  if (!rae) {
    notice_resv_masked_ = false;
    announce_reservation_log();  // notices that still wait are announced again
  }
  return e;
}

uint32_t controller::reservation_mask(nsid_t nsid) const {
  auto it = resv_mask_.find(nsid.value);
  return it == resv_mask_.end() ? resv_mask_all_ : it->second;
}

void controller::set_reservation_mask(nsid_t nsid, uint32_t mask) {
  if (nsid == broadcast_nsid) {
    resv_mask_.clear();
    resv_mask_all_ = mask;
  } else {
    resv_mask_[nsid.value] = mask;
  }
}

bool controller::register_io_queue(qid_t qid, unsigned reactor_index, std::weak_ptr<target_queue> q) {
  std::lock_guard lk(io_mu_);
  if (ended_) return false;
  auto it = io_queues_.find(qid);
  if (it != io_queues_.end() && !it->second.queue.expired()) return false;
  io_queues_[qid] = io_queue_ref{reactor_index, std::move(q)};
  return true;
}

std::vector<std::pair<unsigned, std::weak_ptr<target_queue>>> controller::io_queues() const {
  std::lock_guard lk(io_mu_);
  std::vector<std::pair<unsigned, std::weak_ptr<target_queue>>> out;
  for (auto& [qid, ref] : io_queues_) out.emplace_back(ref.reactor_index, ref.queue);
  return out;
}

void controller::unregister_io_queue(qid_t qid) {
  std::lock_guard lk(io_mu_);
  io_queues_.erase(qid);
}

queue_stats::snapshot_t controller::total_stats() const {
  queue_stats::snapshot_t t;
  for (size_t i = 0; i <= max_io_queues_; ++i) {
    t.read_ops += stats_[i].read_ops.load(std::memory_order_relaxed);
    t.write_ops += stats_[i].write_ops.load(std::memory_order_relaxed);
    t.read_bytes += stats_[i].read_bytes.load(std::memory_order_relaxed);
    t.write_bytes += stats_[i].write_bytes.load(std::memory_order_relaxed);
  }
  return t;
}

size_t controller::io_queue_count() const {
  std::lock_guard lk(io_mu_);
  return io_queues_.size();
}

void controller::close_io_queues(const char* why) {
  std::map<qid_t, io_queue_ref> queues;
  {
    std::lock_guard lk(io_mu_);
    queues.swap(io_queues_);
  }
  for (auto& [qid, ref] : queues) {
    std::weak_ptr<target_queue> weak = ref.queue;
    target_.reactors().at(ref.reactor_index).post([weak, why] {
      if (auto q = weak.lock()) q->close(why);
    });
  }
}

void controller::fatal_error(const char* why) {
  admin_reactor_.post([weak = weak_from_this(), why] {
    auto c = weak.lock();
    if (!c || !c->admin_queue_) return;
    c->csts |= csts_bits::cfs;
    c->admin_queue_->close(why);
  });
}

}  // namespace nvmfd
