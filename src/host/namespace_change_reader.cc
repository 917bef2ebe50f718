#include "host/namespace_change_reader.h"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "host/admin_command.h"
#include "proto/log_pages.h"
#include "proto/wire.h"

namespace nvmfd {

result<std::optional<std::vector<nsid_t>>> parse_changed_namespace_list(std::span<const std::byte> page) {
  if (page.size() < 4) return error{errc::io_error, "Changed Namespace List: shorter than one entry"};
  std::vector<nsid_t> out;
  for (size_t off = 0; off + 4 <= page.size(); off += 4) {
    uint32_t nsid = load_wire<le32>(page.data() + off).get();
    if (nsid == 0) break;
    if (off == 0 && nsid == changed_ns_list_overflow) return std::optional<std::vector<nsid_t>>{};
    if (!out.empty() && nsid <= out.back().value)
      return error{errc::io_error, fmt::format("Changed Namespace List: {} follows {}", nsid, out.back().value)};
    out.push_back(nsid_t{nsid});
  }
  return std::optional<std::vector<nsid_t>>{std::move(out)};
}

namespace {

constexpr uint32_t identify_bytes = 4096;

// One read: the NSIDs to look at, then an Identify Namespace for each in turn (admin reactor).
struct change_scan : std::enable_shared_from_this<change_scan> {
  std::shared_ptr<host_controller> ctrl;
  completion<std::vector<namespace_change>> done;
  std::vector<nsid_t> nsids;
  std::vector<namespace_change> found;

  void identify_next() {
    if (found.size() == nsids.size()) return done(std::move(found));
    nsid_t nsid = nsids[found.size()];
    ctrl->submit_admin(make_identify(identify_cns::namespace_, nsid), std::vector<std::byte>(identify_bytes), false,
                       [self = shared_from_this(), nsid](result<sync_result> r) {
                         if (!r) return self->done(r.take_err());
                         if (r->completion.status.ok() && r->data.size() >= sizeof(identify_namespace)) {
                           remote_namespace ns;
                           ns.nsid = nsid;
                           ns.data = load_wire<identify_namespace>(r->data.data());
                           // An inactive NSID identifies as zeroes.
                           if (ns.data.nsze.get() != 0)
                             if (auto g = namespace_geometry_of(ns.data)) {
                               ns.num_blocks = g->num_blocks;
                               ns.block_size = g->block_size;
                               std::memcpy(ns.id.bytes.data(), ns.data.nguid, 16);
                               return self->read_id(std::move(ns));
                             }
                         }
                         self->found.push_back({nsid, std::nullopt});
                         self->identify_next();
                       });
  }

  // The namespace's ID descriptors: a UUID replaces the NGUID (as at connect).
  void read_id(remote_namespace ns) {
    nsid_t nsid = ns.nsid;
    ctrl->submit_admin(make_identify(identify_cns::namespace_id_descriptors, nsid),
                       std::vector<std::byte>(identify_bytes), false,
                       [self = shared_from_this(), ns = std::move(ns)](result<sync_result> r) mutable {
                         if (!r) return self->done(r.take_err());
                         if (r->completion.status.ok())
                           if (auto p = parse_ns_id_descriptors(std::span<const std::byte>(r->data)); p && p->uuid)
                             std::memcpy(ns.id.bytes.data(), p->uuid->data(), 16);
                         self->found.push_back({ns.nsid, std::move(ns)});
                         self->identify_next();
                       });
  }

  // Overflow: every namespace active now, and every one known at connect.
  void scan_everything() {
    ctrl->submit_admin(make_identify(identify_cns::active_namespace_list), std::vector<std::byte>(identify_bytes),
                       false, [self = shared_from_this()](result<sync_result> r) {
                         if (!r) return self->done(r.take_err());
                         if (r->completion.status.ok())
                           for (size_t off = 0; off + 4 <= r->data.size(); off += 4) {
                             uint32_t nsid = load_wire<le32>(r->data.data() + off).get();
                             if (nsid == 0) break;
                             self->nsids.push_back(nsid_t{nsid});
                           }
                         for (auto& ns : self->ctrl->namespaces()) self->nsids.push_back(ns.nsid);
                         std::sort(self->nsids.begin(), self->nsids.end());
                         self->nsids.erase(std::unique(self->nsids.begin(), self->nsids.end()), self->nsids.end());
                         self->identify_next();
                       });
  }
};

}  // namespace

void read_namespace_changes_async(std::shared_ptr<host_controller> c, completion<std::vector<namespace_change>> done) {
  auto scan = std::make_shared<change_scan>();
  scan->ctrl = c;
  scan->done = std::move(done);
  c->get_log_page_async(static_cast<uint8_t>(log_page_id::changed_namespace_list), 0,
                        sizeof(changed_namespace_list_log), 0, [scan](result<std::vector<std::byte>> page) {
                          if (!page) return scan->done(page.take_err());
                          auto list = parse_changed_namespace_list(*page);
                          if (!list) return scan->done(list.take_err());
                          if (!*list) return scan->scan_everything();
                          scan->nsids = std::move(**list);
                          scan->identify_next();
                        });
}

}  // namespace nvmfd
