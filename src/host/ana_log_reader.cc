#include "host/ana_log_reader.h"

#include <algorithm>
#include <fmt/format.h>

#include "proto/log_pages.h"
#include "proto/wire.h"
#include "reactor/blocking_call.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

result<ana_log_snapshot> parse_ana_log(std::span<const std::byte> b, uint32_t len) {
  auto hdr = decode_wire<ana_log_header>(b);
  if (!hdr) return error{errc::io_error, "ANA log page: short header"};
  ana_log_snapshot out;
  out.change_count = hdr->chgcnt.get();
  size_t off = sizeof(ana_log_header);
  for (unsigned i = 0; i < hdr->ngrps.get(); ++i) {
    auto g = decode_wire<ana_group_descriptor>(b.subspan(std::min(off, b.size())));
    if (!g) return error{errc::io_error, fmt::format("ANA log page: {} groups do not fit in {} bytes", hdr->ngrps.get(), len)};
    uint8_t st = static_cast<uint8_t>(g->ana());
    if (st != 1 && st != 2 && st != 3 && st != 4 && st != 0xf)
      return error{errc::io_error, fmt::format("ANA log page: group {} has invalid state {:#x}", g->grpid.get(), st)};
    out.groups[g->grpid.get()] = g->ana();
    off += sizeof(ana_group_descriptor) + size_t{g->nnsids.get()} * 4;  // no NSIDs with RGO
  }
  return out;
}

void read_ana_log_async(std::shared_ptr<host_controller> c, completion<ana_log_snapshot> done) {
  if (!c->ana_reporting())
    return c->admin_reactor().post([done = std::move(done)]() mutable {
      done(error{errc::not_supported, "the controller does not report ANA"});
    });
  // With RGO the page is the header and one 32-byte descriptor per group.
  uint32_t groups = std::clamp<uint32_t>(c->identity().nanagrpid.get(), 1, 1024);
  uint32_t len = static_cast<uint32_t>(sizeof(ana_log_header) + groups * sizeof(ana_group_descriptor));
  c->get_log_page_async(static_cast<uint8_t>(log_page_id::ana), 0, len, /*lsp: RGO*/ 1,
                        [len, done = std::move(done)](result<std::vector<std::byte>> page) mutable {
                          if (!page) return done(page.take_err());
                          done(parse_ana_log(*page, len));
                        });
}

result<ana_log_snapshot> read_ana_log(host_controller& c) {
  assert_off_reactor("read_ana_log");
  auto self = c.shared_from_this();
  return blocking_call<ana_log_snapshot>(
      c.admin_reactor(), [self](completion<ana_log_snapshot> done) { read_ana_log_async(self, std::move(done)); },
      std::nullopt, "read_ana_log");
}

}  // namespace nvmfd
