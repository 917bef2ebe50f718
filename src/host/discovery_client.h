#pragma once
// discovery_client: the host side of NVMe-oF discovery (NVMe-oF 1.1 5.3, Base 2.0 5.16.1.23):
// reading a discovery controller's Discovery Log Page consistently, decoding and validating
// its entries, and walking referrals to other discovery services.
//
// Threading: read_discovery_log_async() runs anywhere and completes on the controller's
// admin reactor (or, over a reader, where the reader completes). read_discovery_log() and
// discover() run on a control thread (never on a reactor: they wait for the reactors, as
// host_controller does). The parse functions are pure and callable anywhere.
// Failures: errc::protocol_error for a log that breaks the format (bad NUMREC, truncated,
// an unterminated NQN), errc::busy when GENCTR kept moving for every attempt, and the
// controller's own errors (closed, timed_out, io_error with the NVMe status) from the reads.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "host/host_controller.h"
#include "host/transport_id.h"
#include "proto/discovery_log.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"

namespace nvmfd {

// A NUMREC above this is refused: 4096 entries are a 4 MiB log, far more than any
// discovery service lists for one host.
inline constexpr uint64_t discovery_max_records = 4096;
// Reads of the whole log while GENCTR changes under us (Base 2.0 5.16.1.23: the host
// re-reads until GENCTR is stable).
inline constexpr int discovery_max_attempts = 10;
// Referral hops followed by discover() beyond the first discovery controller.
inline constexpr int discovery_max_referral_depth = 4;

// One Discovery Log Page Entry, decoded. Text fields are trimmed (up to the first NUL,
// without trailing spaces).
struct discovery_entry {
  uint8_t trtype = 0;    // transport_type
  uint8_t adrfam = 0;    // address_family
  uint8_t subtype = 0;   // subsystem_type
  uint8_t treq = 0;      // treq_bits
  uint16_t portid = 0;
  uint16_t cntlid = 0;
  uint16_t asqsz = 0;
  uint16_t eflags = 0;   // eflags_bits
  std::string trsvcid;
  std::string traddr;
  std::string subnqn;
  uint8_t sectype = 0;   // TSAS byte 0 for TCP (tcp_sectype)

  bool is_referral() const { return subtype == static_cast<uint8_t>(subsystem_type::referral); }
  // Where to connect for this entry (trtype and adrfam spelled as transport_id does).
  transport_id trid() const;
  bool operator==(const discovery_entry&) const = default;
};

struct discovery_log {
  uint64_t genctr = 0;
  uint64_t numrec = 0;
  uint16_t recfmt = 0;
  std::vector<discovery_entry> entries;  // numrec of them
};

// The header fields of a log image (at least 1024 bytes); protocol_error if shorter or if
// NUMREC exceeds discovery_max_records.
result<discovery_log> parse_discovery_log_header(std::span<const std::byte> header);

// One 1024-byte entry. protocol_error (naming the field's byte offset) if `raw` is short
// or the SUBNQN field has no terminating NUL.
result<discovery_entry> parse_discovery_entry(std::span<const std::byte> raw);

// A whole log image: the header, then NUMREC entries. protocol_error if the image is
// shorter than NUMREC says (naming both), NUMREC is above the maximum, or an entry is bad
// (naming its index).
result<discovery_log> parse_discovery_log(std::span<const std::byte> page);

// One Get Log Page of the Discovery Log: `len` bytes at byte `offset`.
using discovery_log_reader = std::function<result<std::vector<std::byte>>(uint64_t offset, uint32_t len)>;
// The same, asynchronous: the reader calls done once, inside the call or later on the thread
// the read runs on.
using discovery_log_reader_async =
    std::function<void(uint64_t offset, uint32_t len, completion<std::vector<std::byte>> done)>;

// Reads a consistent log: the header, then the whole log in reads of at most max_chunk
// bytes (a multiple of 4), then the header again; repeats (up to discovery_max_attempts)
// while GENCTR or NUMREC moved in between. A read returning fewer bytes than asked is a
// protocol_error.
result<discovery_log> read_discovery_log(const discovery_log_reader& read, uint32_t max_chunk);
// The same on a connected discovery controller (chunks of at most its transfer size).
result<discovery_log> read_discovery_log(host_controller& ctrl);
// The asynchronous forms of the two: done runs where the reader's last completion runs
// (start it on the thread where the reader completes). For a controller, from any thread:
// the read runs on its admin reactor and done runs there, never inside this call.
void read_discovery_log_async(discovery_log_reader_async read, uint32_t max_chunk, completion<discovery_log> done);
void read_discovery_log_async(std::shared_ptr<host_controller> ctrl, completion<discovery_log> done);

// Where discover() gets each controller's log: connect, read, disconnect.
using discovery_log_source = std::function<result<discovery_log>(const transport_id&)>;

// The referral walk of discover() over any source of logs (tests use a fake).
result<std::vector<discovery_entry>> walk_discovery(const discovery_log_source& source, const transport_id& root,
                                                    bool follow_referrals);

// Connects to the discovery controller at `trid` (an empty subnqn means the well-known
// discovery NQN), reads its log and disconnects. With follow_referrals, every referral
// entry (subtype "discovery subsystem referral") over TCP is visited in turn, breadth
// first, each address once, at most discovery_max_referral_depth hops away; the entries
// of every log are merged in visiting order without duplicates. An unreachable referral
// is logged and skipped; only a failure at `trid` itself fails the call. A controller
// that is neither of discovery type nor at the well-known NQN is invalid_argument.
result<std::vector<discovery_entry>> discover(reactor_pool& pool, const transport_id& trid,
                                              const controller_options& opts, bool follow_referrals);

}  // namespace nvmfd
