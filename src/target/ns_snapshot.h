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

#include "proto/ana_log.h"

namespace nvmfd {

class namespace_table;

struct ns_snapshot {
  std::shared_ptr<const namespace_table> table;
  uint64_t generation = 0;
  uint32_t inflight = 0;
  // Of those, the commands with a bdev I/O outstanding (target_queue::after_older_io).
  uint32_t in_bdev = 0;
  // ANA state of each namespace (index nsid - 1) through this controller's listener;
  // empty when every namespace is optimized there.
  std::vector<ana_state> ana;
};

}  // namespace nvmfd
