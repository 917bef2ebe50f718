#include "host/discovery_client.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "base/log.h"
#include "proto/log_pages.h"
#include "proto/nqn.h"
#include "reactor/blocking_call.h"
#include "reactor/reactor_assert.h"

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

// Reads [offset, offset + len) of the log in chunks of at most max_chunk bytes, one after
// the other. A reader that completes inside its call is driven by a loop, not by recursion;
// one that completes later must do so on the thread that runs this read.
class log_range_read : public std::enable_shared_from_this<log_range_read> {
 public:
  using then_fn = std::function<void(result<std::vector<std::byte>>)>;
  static void start(const discovery_log_reader_async& read, uint32_t max_chunk, uint64_t offset, uint64_t len,
                    then_fn then) {
    auto op = std::make_shared<log_range_read>(read, max_chunk, offset, len, std::move(then));
    op->out_.reserve(len);
    op->run();
  }
  log_range_read(const discovery_log_reader_async& read, uint32_t max_chunk, uint64_t offset, uint64_t len,
                 then_fn then)
      : read_(read), max_chunk_(max_chunk), offset_(offset), len_(len), then_(std::move(then)) {}

 private:
  void run() {
    while (out_.size() < len_) {
      uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(max_chunk_, len_ - out_.size()));
      in_call_ = true;
      arrived_ = false;
      read_(offset_ + out_.size(), n,
            [self = shared_from_this(), n](result<std::vector<std::byte>> part) { self->on_part(n, std::move(part)); });
      in_call_ = false;
      if (!arrived_ || finished_) return;  // on_part goes on (asynchronous), or it is over
    }
    finish(std::move(out_));
  }
  void on_part(uint32_t n, result<std::vector<std::byte>> part) {
    if (!part) return finish(part.take_err());
    if (part->size() < n)
      return finish(error{errc::protocol_error, fmt::format("discovery log read at offset {} returned {} of {} bytes",
                                                            offset_ + out_.size(), part->size(), n)});
    out_.insert(out_.end(), part->begin(), part->begin() + n);
    arrived_ = true;
    if (!in_call_) run();
  }
  void finish(result<std::vector<std::byte>> r) {
    finished_ = true;
    then_(std::move(r));
  }

  discovery_log_reader_async read_;
  uint32_t max_chunk_;
  uint64_t offset_;
  uint64_t len_;
  then_fn then_;
  std::vector<std::byte> out_;
  bool in_call_ = false;
  bool arrived_ = false;
  bool finished_ = false;
};

// A consistent read of the whole log (read_discovery_log's contract), step by step.
class log_read : public std::enable_shared_from_this<log_read> {
 public:
  log_read(discovery_log_reader_async read, uint32_t max_chunk, completion<discovery_log> done)
      : read_(std::move(read)), max_chunk_(max_chunk), done_(std::move(done)) {}

  void start() {
    read_range(0, sizeof(discovery_log_header), [this](std::vector<std::byte> first) {
      auto before = parse_discovery_log_header(first);
      if (!before) return done_(before.take_err());
      before_ = std::move(*before);
      next_attempt();
    });
  }

 private:
  void read_range(uint64_t offset, uint64_t len, std::function<void(std::vector<std::byte>)> then) {
    log_range_read::start(read_, max_chunk_, offset, len,
                          [self = shared_from_this(), then = std::move(then)](result<std::vector<std::byte>> r) {
                            if (!r) return self->done_(r.take_err());
                            then(std::move(*r));
                          });
  }
  void next_attempt() {
    if (++attempt_ > discovery_max_attempts)
      return done_(error{errc::busy, fmt::format("the discovery log kept changing (GENCTR) over {} reads",
                                                 discovery_max_attempts)});
    read_range(0, discovery_log_size(before_.numrec), [this](std::vector<std::byte> page) {
      page_ = std::move(page);
      read_range(0, sizeof(discovery_log_header), [this](std::vector<std::byte> again) { check(again); });
    });
  }
  void check(std::span<const std::byte> again) {
    auto after = parse_discovery_log_header(again);
    if (!after) return done_(after.take_err());
    auto whole = parse_discovery_log_header(page_);
    if (!whole) return done_(whole.take_err());
    // Consistent only if nothing changed from the first header to the last one.
    if (whole->genctr == before_.genctr && after->genctr == before_.genctr && whole->numrec == before_.numrec &&
        after->numrec == before_.numrec)
      return done_(parse_discovery_log(page_));
    NVMFD_LOG_DEBUG("discovery log changed while reading (genctr {} -> {}), attempt {}", before_.genctr,
                    after->genctr, attempt_);
    before_ = std::move(*after);
    next_attempt();
  }

  discovery_log_reader_async read_;
  uint32_t max_chunk_;
  completion<discovery_log> done_;
  discovery_log before_;
  std::vector<std::byte> page_;
  int attempt_ = 0;
};

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

void read_discovery_log_async(discovery_log_reader_async read, uint32_t max_chunk, completion<discovery_log> done) {
  max_chunk = std::max(max_chunk & ~3u, 4u);
  std::make_shared<log_read>(std::move(read), max_chunk, std::move(done))->start();
}

result<discovery_log> read_discovery_log(const discovery_log_reader& read, uint32_t max_chunk) {
  // The reader completes inside each call, so the whole read is over when this returns.
  std::optional<result<discovery_log>> out;
  read_discovery_log_async(
      [&read](uint64_t offset, uint32_t len, completion<std::vector<std::byte>> done) { done(read(offset, len)); },
      max_chunk, [&out](result<discovery_log> r) { out.emplace(std::move(r)); });
  return std::move(*out);
}

void read_discovery_log_async(std::shared_ptr<host_controller> ctrl, completion<discovery_log> done) {
  uint32_t chunk = std::min(std::max(ctrl->max_transfer_bytes(), 4096u), max_log_chunk);
  // The whole read runs on the admin reactor, where every read completes (log_range_read
  // tells an inline completion from a later one on one thread only).
  reactor& home = ctrl->admin_reactor();
  home.post([ctrl, chunk, done = std::move(done)]() mutable {
    read_discovery_log_async(
        [ctrl](uint64_t offset, uint32_t len, completion<std::vector<std::byte>> part) {
          ctrl->get_log_page_async(discovery_lid, offset, len, 0, std::move(part));
        },
        chunk, std::move(done));
  });
}

result<discovery_log> read_discovery_log(host_controller& ctrl) {
  assert_off_reactor("read_discovery_log");
  auto self = ctrl.shared_from_this();
  return blocking_call<discovery_log>(
      ctrl.admin_reactor(), [self](completion<discovery_log> done) { read_discovery_log_async(self, std::move(done)); },
      std::nullopt, "read_discovery_log");
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
