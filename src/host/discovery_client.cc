#include "host/discovery_client.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "base/log.h"
#include "proto/log_pages.h"
#include "proto/nqn.h"

namespace nvmfd {

namespace {

constexpr uint8_t discovery_lid = 0x70;  // Base 2.0 Figure 202
// Keeps each Get Log Page small even when the controller sets no MDTS.
constexpr uint32_t max_log_chunk = 64 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Reads [offset, offset + len) of the log in chunks of at most max_chunk bytes.
result<std::vector<std::byte>> read_log_range(const discovery_log_reader& read, uint32_t max_chunk, uint64_t offset,
                                              uint64_t len) {
  std::vector<std::byte> out;
  out.reserve(len);
  for (uint64_t done = 0; done < len;) {
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(max_chunk, len - done));
    auto part = read(offset + done, n);
    if (!part) return part.take_err();
    if (part->size() < n)
      return error{errc::protocol_error,
                   fmt::format("discovery log read at offset {} returned {} of {} bytes", offset + done,
                               part->size(), n)};
    out.insert(out.end(), part->begin(), part->begin() + n);
    done += n;
  }
  return out;
}

std::string key_of(const transport_id& t) {
  return fmt::format("{}|{}|{}|{}", t.trtype, lower(t.traddr), t.trsvcid, t.subnqn);
}

auto entry_identity(const discovery_entry& e) {
  return std::make_tuple(e.subtype, e.trtype, e.adrfam, lower(e.traddr), e.trsvcid, e.subnqn, e.portid);
}

// One discovery controller: connect, read, disconnect. Errors name the address.
result<discovery_log> read_log_at(reactor_pool& pool, const transport_id& where, const controller_options& opts) {
  auto prefix = [&](error e) {
    e.message = fmt::format("discovery controller {}:{} ({}): {}", where.traddr, where.trsvcid, where.subnqn,
                            e.message);
    return e;
  };
  auto c = host_controller::connect(pool, where, opts);
  if (!c) return prefix(c.take_err());
  if ((*c)->identity().type() != controller_type::discovery && !is_discovery_nqn(where.subnqn)) {
    (*c)->disconnect();
    return prefix(error{errc::invalid_argument, "not a discovery controller"});
  }
  auto log = read_discovery_log(**c);
  (*c)->disconnect();
  if (!log) return prefix(log.take_err());
  return log;
}

}  // namespace

transport_id discovery_entry::trid() const {
  transport_id t;
  switch (static_cast<transport_type>(trtype)) {
    case transport_type::rdma: t.trtype = "rdma"; break;
    case transport_type::fc: t.trtype = "fc"; break;
    case transport_type::tcp: t.trtype = "tcp"; break;
    default: t.trtype = fmt::format("{}", trtype); break;
  }
  t.adrfam = adrfam == static_cast<uint8_t>(address_family::ipv6) ? "ipv6" : "ipv4";
  t.traddr = traddr;
  t.trsvcid = trsvcid;
  t.subnqn = subnqn;
  return t;
}

result<discovery_log> parse_discovery_log_header(std::span<const std::byte> header) {
  auto h = decode_wire<discovery_log_header>(header);
  if (!h)
    return error{errc::protocol_error,
                 fmt::format("discovery log header truncated: {} of {} bytes", header.size(),
                             sizeof(discovery_log_header))};
  discovery_log log;
  log.genctr = h->genctr.get();
  log.numrec = h->numrec.get();
  log.recfmt = h->recfmt.get();
  if (log.numrec > discovery_max_records)
    return error{errc::protocol_error, fmt::format("discovery log NUMREC {} is above the limit of {} entries",
                                                   log.numrec, discovery_max_records)};
  return log;
}

result<discovery_entry> parse_discovery_entry(std::span<const std::byte> raw) {
  auto e = decode_wire<discovery_log_entry>(raw);
  if (!e)
    return error{errc::protocol_error, fmt::format("discovery log entry truncated: {} of {} bytes", raw.size(),
                                                   sizeof(discovery_log_entry))};
  // NQN fields are NUL terminated (Base 2.0 4.5); TRADDR/TRSVCID may use every byte.
  if (std::find(e->subnqn.begin(), e->subnqn.end(), '\0') == e->subnqn.end())
    return error{errc::protocol_error,
                 fmt::format("discovery log entry: SUBNQN (byte {}) is not NUL terminated",
                             offsetof(discovery_log_entry, subnqn))};
  discovery_entry d;
  d.trtype = e->trtype;
  d.adrfam = e->adrfam;
  d.subtype = e->subtype;
  d.treq = e->treq;
  d.portid = e->portid.get();
  d.cntlid = e->cntlid.get();
  d.asqsz = e->asqsz.get();
  d.eflags = e->eflags.get();
  d.trsvcid = std::string(e->trsvcid_text());
  d.traddr = std::string(e->traddr_text());
  d.subnqn = std::string(read_padded(e->subnqn));
  d.sectype = e->trtype == static_cast<uint8_t>(transport_type::tcp) ? e->tsas[0] : 0;
  return d;
}

result<discovery_log> parse_discovery_log(std::span<const std::byte> page) {
  auto log = parse_discovery_log_header(page);
  if (!log) return log;
  uint64_t need = discovery_log_size(log->numrec);
  if (page.size() < need)
    return error{errc::protocol_error, fmt::format("discovery log truncated: NUMREC {} needs {} bytes, got {}",
                                                   log->numrec, need, page.size())};
  log->entries.reserve(log->numrec);
  for (uint64_t i = 0; i < log->numrec; ++i) {
    auto e = parse_discovery_entry(page.subspan(discovery_entry_offset(i), sizeof(discovery_log_entry)));
    if (!e) return error{errc::protocol_error, fmt::format("entry {}: {}", i, e.err().message)};
    log->entries.push_back(std::move(*e));
  }
  return log;
}

result<discovery_log> read_discovery_log(const discovery_log_reader& read, uint32_t max_chunk) {
  max_chunk = std::max(max_chunk & ~3u, 4u);
  auto first = read_log_range(read, max_chunk, 0, sizeof(discovery_log_header));
  if (!first) return first.take_err();
  auto before = parse_discovery_log_header(*first);
  if (!before) return before;
  for (int attempt = 1; attempt <= discovery_max_attempts; ++attempt) {
    auto page = read_log_range(read, max_chunk, 0, discovery_log_size(before->numrec));
    if (!page) return page.take_err();
    auto again = read_log_range(read, max_chunk, 0, sizeof(discovery_log_header));
    if (!again) return again.take_err();
    auto after = parse_discovery_log_header(*again);
    if (!after) return after;
    auto whole = parse_discovery_log_header(*page);
    if (!whole) return whole;
    // Consistent only if nothing changed from the first header to the last one.
    if (whole->genctr == before->genctr && after->genctr == before->genctr && whole->numrec == before->numrec &&
        after->numrec == before->numrec)
      return parse_discovery_log(*page);
    NVMFD_LOG_DEBUG("discovery log changed while reading (genctr {} -> {}), attempt {}", before->genctr,
                    after->genctr, attempt);
    before = std::move(after);
  }
  return error{errc::busy, fmt::format("the discovery log kept changing (GENCTR) over {} reads",
                                       discovery_max_attempts)};
}

result<discovery_log> read_discovery_log(host_controller& ctrl) {
  uint32_t chunk = std::min(std::max(ctrl.max_transfer_bytes(), 4096u), max_log_chunk);
  return read_discovery_log(
      [&ctrl](uint64_t offset, uint32_t len) { return ctrl.get_log_page(discovery_lid, offset, len); }, chunk);
}

result<std::vector<discovery_entry>> walk_discovery(const discovery_log_source& source, const transport_id& trid,
                                                    bool follow_referrals) {
  struct pending {
    transport_id where;
    int depth;
  };
  transport_id root = trid;
  if (root.subnqn.empty()) root.subnqn = std::string(discovery_nqn);
  std::deque<pending> todo{{root, 0}};
  std::set<std::string> visited{key_of(root)};
  std::vector<discovery_entry> merged;
  std::set<decltype(entry_identity(std::declval<discovery_entry>()))> seen;
  while (!todo.empty()) {
    pending p = std::move(todo.front());
    todo.pop_front();
    auto log = source(p.where);
    if (!log) {
      if (p.depth == 0) return log.take_err();
      NVMFD_LOG_WARN("skipping referral: {}", log.err().message);
      continue;
    }
    for (auto& e : log->entries) {
      if (seen.insert(entry_identity(e)).second) merged.push_back(e);
      if (!follow_referrals || !e.is_referral()) continue;
      if (e.trtype != static_cast<uint8_t>(transport_type::tcp)) {
        NVMFD_LOG_WARN("skipping referral to {} over transport type {}: only TCP is supported", e.traddr, e.trtype);
        continue;
      }
      transport_id next = e.trid();
      if (next.subnqn.empty()) next.subnqn = std::string(discovery_nqn);
      if (p.depth + 1 > discovery_max_referral_depth) {
        NVMFD_LOG_WARN("not following referral to {}:{}: more than {} hops", next.traddr, next.trsvcid,
                       discovery_max_referral_depth);
        continue;
      }
      if (visited.insert(key_of(next)).second) todo.push_back({std::move(next), p.depth + 1});
    }
  }
  return merged;
}

result<std::vector<discovery_entry>> discover(reactor_pool& pool, const transport_id& trid,
                                              const controller_options& opts, bool follow_referrals) {
  return walk_discovery([&](const transport_id& where) { return read_log_at(pool, where, opts); }, trid,
                        follow_referrals);
}

}  // namespace nvmfd
