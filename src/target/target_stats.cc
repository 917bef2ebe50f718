// nvmf_target's statistics: each reactor's poll group and a subsystem's queue pairs, read on
// the reactor that owns the queues (its connection set is touched by it only).
#include "target/controller.h"
#include "target/nvmf_target.h"
#include "target/subsystem.h"
#include "target/target_queue.h"

namespace nvmfd {

std::vector<poll_group_info> nvmf_target::poll_groups() {
  std::vector<poll_group_info> out(reactors_.size());
  for (unsigned i = 0; i < reactors_.size(); ++i) {
    poll_group_info& g = out[i];
    g.reactor = i;
    reactors_.run_on(i, [&, i] {
      for (auto& [p, q] : conns_[i]) {
        if (!q->connected())
          ++g.current_unassociated_qpairs;
        else if (q->is_admin())
          ++g.current_admin_qpairs;
        else
          ++g.current_io_qpairs;
        g.pending_bdev_io += q->inflight_io();
      }
    });
    const poll_group_stats& s = stats_[i];
    g.admin_qpairs = s.admin_qpairs.load(std::memory_order_relaxed);
    g.io_qpairs = s.io_qpairs.load(std::memory_order_relaxed);
    g.completed_nvme_io = s.completed_nvme_io.load(std::memory_order_relaxed);
  }
  return out;
}

result<std::vector<qpair_info>> nvmf_target::qpairs(const std::string& nqn) {
  if (auto c = controllers(nqn); !c) return c.take_err();  // the subsystem exists
  std::vector<qpair_info> out;
  for (unsigned i = 0; i < reactors_.size(); ++i) {
    reactors_.run_on(i, [&, i] {
      for (auto& [p, q] : conns_[i]) {
        controller* c = q->ctrl();
        if (!c || c->subsys()->nqn() != nqn) continue;
        out.push_back({c->cntlid().value, q->qid().value, i, c->hostnqn(), q->local(), q->peer()});
      }
    });
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return std::tie(a.cntlid, a.qid) < std::tie(b.cntlid, b.qid); });
  return out;
}

}  // namespace nvmfd
