#include "test_controller.h"

#include <fmt/format.h>

namespace nvmfd {

namespace {

result<void> require_success(const result<command_result>& r, const char* what) {
  if (!r) return r.err();
  if (!r->status().ok())
    return error{errc::protocol_error, fmt::format("{} failed: status {:#x}, dw0 {:#x}", what,
                                                   r->cpl.cqe.status.get(), r->dw0())};
  return success();
}

}  // namespace

result<uint16_t> connect_admin_queue(test_client& c, const std::string& addr, uint16_t port,
                                     const std::string& subnqn, uint32_t kato_ms, uint16_t sqsize, bool enable) {
  if (auto r = c.connect(addr, port); !r) return r.take_err();
  auto r = c.fabrics_connect(subnqn, 0, sqsize, 0xffff, kato_ms);
  if (auto ok = require_success(r, "admin Connect"); !ok) return ok.take_err();
  if (enable)
    if (auto e = c.enable(); !e) return e.take_err();
  return static_cast<uint16_t>(r->dw0() & 0xffff);
}

result<test_controller> test_controller::connect(const test_controller_params& p) {
  test_controller h(p.opts);
  auto cntlid = connect_admin_queue(h.admin, p.addr, p.port, p.subnqn, p.kato_ms, p.admin_sqsize);
  if (!cntlid) return cntlid.take_err();
  h.cntlid = *cntlid;
  if (auto r = require_success(h.admin.set_number_of_queues(p.io_queues), "Set Features Number of Queues"); !r)
    return r.take_err();
  if (auto r = h.io.connect(p.addr, p.port); !r) return r.take_err();
  if (auto r = require_success(h.io.fabrics_connect(p.subnqn, 1, p.io_sqsize, h.cntlid, 0), "I/O Connect"); !r)
    return r.take_err();
  return h;
}

}  // namespace nvmfd
