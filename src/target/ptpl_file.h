#pragma once
// ptpl_file: a namespace's reservation as it persists through power loss, in SPDK's file
// format (nvmf_subsystem_add_ns --ptpl-file), so that a file written by SPDK loads here and
// the other way round:
//   {"ptpl": true, "rtype": 1, "crkey": 12, "bdev_uuid": "...", "holder_uuid": "...",
//    "registrants": [{"rkey": 12, "host_uuid": "..."}]}
// An empty file (what SPDK writes when PTPL is turned off) and a missing one hold nothing.
// Anything else that does not parse, or does not make sense (a holder that is not
// registered, a key that does not match, a host twice, another bdev's file), is an error
// that names the file and the problem: a reservation is never dropped silently.
//
// Threading: pure functions, and a blocking read (the control thread at load). The file is
// written with write_file_durably (durable_file.h).
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/uuid.h"
#include "target/reservation_state.h"

namespace nvmfd {

struct ptpl_record {
  bool ptpl = false;
  reservation_type rtype = reservation_type::none;
  std::optional<uuid> holder;  // as written; the all-registrants types name none
  uuid bdev_uuid;
  std::vector<reservation_registrant> registrants;
};

// The record of a state (the file's whole text: empty when PTPL is off).
std::string encode_ptpl(const reservation_state& st, const uuid& bdev_uuid);
// Parses a file's text; nullopt for an empty file or one whose "ptpl" is false.
result<std::optional<ptpl_record>> decode_ptpl(const std::string& text, const std::string& path,
                                               const uuid& bdev_uuid);
// Reads and decodes path; nullopt when it does not exist or holds nothing.
result<std::optional<ptpl_record>> load_ptpl_file(const std::string& path, const uuid& bdev_uuid);

}  // namespace nvmfd
