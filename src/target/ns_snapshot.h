#pragma once
// ns_snapshot: the namespace table a target queue uses for its commands, with the ANA
// states of the queue's listener resolved per namespace, and how many running commands
// use it. A queue keeps the newest one and retires the older ones once idle
// (target_queue::current_snapshot / put_snapshot); a command holds its snapshot, and so
// its namespace and bdev, until it completes.
//
// Threading: owned and touched by the queue's reactor only.
#include <cstdint>
#include <memory>
#include <vector>

#include "base/strong_id.h"
#include "proto/ana_log.h"
#include "target/target_namespace.h"

namespace nvmfd {

struct ns_snapshot {
  std::shared_ptr<const namespace_table> table;
  uint64_t generation = 0;
  uint32_t inflight = 0;
  // Of those, the commands with a bdev I/O outstanding (target_queue::after_older_io).
  uint32_t in_bdev = 0;
  // ANA state of each namespace (index nsid - 1) through this controller's listener;
  // empty when every namespace is optimized there.
  std::vector<ana_state> ana;
  // Namespaces (index nsid - 1) this controller's host may not see (no_auto_visible and not
  // added for it); empty when it sees them all.
  std::vector<uint8_t> hidden;
  // The active namespace nsid as this controller sees it, or nullptr.
  const target_namespace* find(nsid_t nsid) const {
    const target_namespace* ns = table->find(nsid);
    if (ns && !hidden.empty() && hidden[namespace_table::slot_of(nsid)]) return nullptr;
    return ns;
  }
};

}  // namespace nvmfd
