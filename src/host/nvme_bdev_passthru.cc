#include "host/nvme_bdev_passthru.h"

#include <fmt/format.h>

#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {

// Whether a completion says "this path, not the command": try another.
bool path_failure(const nvme_status& s) { return s.sct == status_type::path_related; }

}  // namespace

result<sync_result> send_through_paths(const nvme_bdev& b, const nvm_command& c) {
  assert_off_reactor("send_through_paths");
  auto table = b.paths();
  if (!table) return error{errc::closed, fmt::format("{}: no connected path", b.name())};
  // Preference: current, then usable, then merely connected.
  std::vector<const nvme_bdev_path*> order;
  for (int pass = 0; pass < 3; ++pass)
    for (size_t i = 0; i < table->paths.size(); ++i) {
      const nvme_bdev_path& p = table->paths[i];
      bool current = nvme_bdev::is_current(*table, i), usable = nvme_bdev::is_usable(p);
      bool take = pass == 0 ? current : pass == 1 ? usable && !current : !usable;
      if (take && p.ctrl && !p.ctrl->failed() && !p.ctrl->io_queues().empty()) order.push_back(&p);
    }
  std::optional<result<sync_result>> last;
  for (const nvme_bdev_path* p : order) {
    nvme_sqe cmd = c.cmd;
    cmd.nsid = p->nsid.value;
    auto r = run_sync(*p->ctrl->io_queues().front(), cmd, c.data, c.host_to_controller,
                      p->ctrl->options().io_timeout_ms + 2000);
    if (r && !path_failure(r->completion.status)) return r;
    last = std::move(r);
  }
  if (!last) return error{errc::closed, fmt::format("{}: no connected path", b.name())};
  return std::move(*last);
}

}  // namespace nvmfd
