#pragma once
// namespace_change_reader: what a Namespace Attribute Changed event means for our host.
// Reads the controller's Changed Namespace List log page (LID 04h; reading it with RAE
// cleared re-arms the event), then Identify Namespace (and its ID descriptors) for each
// namespace in it, giving each one as it is now, or none when it is no longer active. When the list overflowed (more
// than 1024 changes), every namespace active now and every one the controller had at connect
// is looked at.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "host/host_controller.h"
#include "host/identify_limits.h"
#include "reactor/completion.h"

namespace nvmfd {

struct namespace_change {
  nsid_t nsid;
  // Active now: its Identify data, geometry and ID (the UUID descriptor, else the NGUID), as
  // host_controller::namespaces() has them after a connect. None: not active (or no usable
  // format) now.
  std::optional<remote_namespace> ns;
};

// The NSIDs of a Changed Namespace List page, ascending, or nullopt when the controller
// reported an overflow (first entry FFFFFFFFh). Stops at the first zero entry or the page's
// end. io_error when the page is shorter than one entry, or a list is not ascending.
result<std::optional<std::vector<nsid_t>>> parse_changed_namespace_list(std::span<const std::byte> page);

// Any thread; done runs on c's admin reactor. Errors: the log page read's (a failed
// controller, an NVMe status), or the page's (parse_changed_namespace_list). A namespace
// whose Identify fails with an NVMe status is reported as not active.
void read_namespace_changes_async(std::shared_ptr<host_controller> c, completion<std::vector<namespace_change>> done);

}  // namespace nvmfd
