// read_discovery_log over a fake log reader (chunking, GENCTR retries, short reads, errors)
// and walk_discovery over fake discovery services (referrals, cycles, depth, failures).
#include <gtest/gtest.h>

#include <map>

#include "discovery_log_image.h"
#include "host/discovery_client.h"

namespace nvmfd {
namespace {

using test::entry_spec;
using test::make_log;

// A discovery service whose log may change between reads: `pages` are served in turn,
// switching after every `reads_per_page` Get Log Page commands.
struct fake_service {
  std::vector<std::vector<std::byte>> pages;
  int reads_per_page = 1000000;
  uint32_t max_len_seen = 0;
  int reads = 0;
  std::vector<std::pair<uint64_t, uint32_t>> calls;

  const std::vector<std::byte>& current() const {
    size_t i = std::min<size_t>(reads / reads_per_page, pages.size() - 1);
    return pages[i];
  }
  discovery_log_reader reader() {
    return [this](uint64_t offset, uint32_t len) -> result<std::vector<std::byte>> {
      calls.emplace_back(offset, len);
      max_len_seen = std::max(max_len_seen, len);
      const auto& p = current();
      ++reads;
      // Like a controller: bytes past the end of the log read as zeroes.
      std::vector<std::byte> out(len);
      for (uint32_t i = 0; i < len && offset + i < p.size(); ++i) out[i] = p[offset + i];
      return out;
    };
  }
};

std::vector<entry_spec> n_entries(int n, const std::string& prefix = "nqn.2016-06.io.nvmfd:s") {
  std::vector<entry_spec> v;
  for (int i = 0; i < n; ++i) {
    entry_spec s;
    s.subnqn = prefix + std::to_string(i);
    v.push_back(s);
  }
  return v;
}

TEST(read_discovery_log, reads_header_then_whole_log_then_header) {
  fake_service f;
  f.pages = {make_log(5, n_entries(3))};
  auto log = read_discovery_log(f.reader(), 1 << 20);
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(log->genctr, 5u);
  ASSERT_EQ(log->entries.size(), 3u);
  EXPECT_EQ(log->entries[2].subnqn, "nqn.2016-06.io.nvmfd:s2");
  ASSERT_EQ(f.calls.size(), 3u);
  EXPECT_EQ(f.calls[0], std::make_pair(uint64_t{0}, 1024u));
  EXPECT_EQ(f.calls[1], std::make_pair(uint64_t{0}, 4096u));
  EXPECT_EQ(f.calls[2], std::make_pair(uint64_t{0}, 1024u));
}

TEST(read_discovery_log, splits_reads_at_the_chunk_size) {
  fake_service f;
  f.pages = {make_log(5, n_entries(10))};
  auto log = read_discovery_log(f.reader(), 4096);
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(log->entries.size(), 10u);
  EXPECT_LE(f.max_len_seen, 4096u);
  // 1 header + ceil(11264 / 4096) = 3 chunks + 1 header, at consecutive offsets.
  ASSERT_EQ(f.calls.size(), 5u);
  EXPECT_EQ(f.calls[1].first, 0u);
  EXPECT_EQ(f.calls[2].first, 4096u);
  EXPECT_EQ(f.calls[3].first, 8192u);
  EXPECT_EQ(f.calls[3].second, 11264u - 8192u);
}

TEST(read_discovery_log, retries_while_genctr_moves_and_uses_the_new_size) {
  fake_service f;
  // Changes after the first two reads: header (2 entries), whole log; the trailing
  // header then shows 4 entries, so the log is read again at the new size.
  f.pages = {make_log(1, n_entries(2)), make_log(2, n_entries(4, "nqn.2016-06.io.nvmfd:new"))};
  f.reads_per_page = 2;
  auto log = read_discovery_log(f.reader(), 1 << 20);
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(log->genctr, 2u);
  ASSERT_EQ(log->entries.size(), 4u);
  EXPECT_EQ(log->entries[3].subnqn, "nqn.2016-06.io.nvmfd:new3");
  EXPECT_EQ(f.calls.size(), 5u);
  EXPECT_EQ(f.calls[3].second, 5u * 1024u);
}

TEST(read_discovery_log, same_genctr_but_other_numrec_is_a_change_too) {
  fake_service f;
  f.pages = {make_log(7, n_entries(1)), make_log(7, n_entries(2))};
  f.reads_per_page = 2;
  auto log = read_discovery_log(f.reader(), 1 << 20);
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(log->entries.size(), 2u);
}

TEST(read_discovery_log, gives_up_when_the_log_never_settles) {
  fake_service f;
  for (uint64_t g = 0; g < 100; ++g) f.pages.push_back(make_log(g, n_entries(1)));
  f.reads_per_page = 1;
  auto log = read_discovery_log(f.reader(), 1 << 20);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.err().code, errc::busy);
  EXPECT_NE(log.err().message.find("GENCTR"), std::string::npos);
  EXPECT_EQ(f.calls.size(), 1u + 2u * discovery_max_attempts);
}

TEST(read_discovery_log, bad_numrec_stops_before_reading_entries) {
  fake_service f;
  f.pages = {make_log(1, {}, discovery_max_records + 1)};
  auto log = read_discovery_log(f.reader(), 1 << 20);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.err().code, errc::protocol_error);
  EXPECT_EQ(f.calls.size(), 1u);
}

TEST(read_discovery_log, short_read_is_a_protocol_error) {
  auto page = make_log(1, n_entries(1));
  discovery_log_reader r = [&](uint64_t, uint32_t len) -> result<std::vector<std::byte>> {
    return std::vector<std::byte>(page.begin(), page.begin() + std::min<size_t>(len, 1024));
  };
  auto log = read_discovery_log(r, 1 << 20);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.err().code, errc::protocol_error);
}

TEST(read_discovery_log, reader_errors_pass_through) {
  int n = 0;
  discovery_log_reader r = [&](uint64_t, uint32_t len) -> result<std::vector<std::byte>> {
    if (++n == 2) return error{errc::io_error, "Get Log Page failed: NVMe status SCT 0x0 SC 0x2"};
    return std::vector<std::byte>(len);  // an empty log
  };
  auto log = read_discovery_log(r, 1 << 20);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.err().code, errc::io_error);
  EXPECT_NE(log.err().message.find("SC 0x2"), std::string::npos);
}

// --- referrals ---------------------------------------------------------------------------

transport_id at(const std::string& addr, const std::string& port) {
  transport_id t;
  t.traddr = addr;
  t.trsvcid = port;
  t.subnqn = std::string(discovery_nqn);
  return t;
}

entry_spec nvme_entry(const std::string& nqn, const std::string& addr) {
  entry_spec s;
  s.subnqn = nqn;
  s.traddr = addr;
  return s;
}

entry_spec referral(const std::string& addr, const std::string& port) {
  entry_spec s;
  s.subtype = static_cast<uint8_t>(subsystem_type::referral);
  s.subnqn = std::string(discovery_nqn);
  s.traddr = addr;
  s.trsvcid = port;
  return s;
}

struct fake_fabric {
  std::map<std::string, std::vector<entry_spec>> logs;  // "addr:port" -> entries
  std::vector<std::string> visited;

  discovery_log_source source() {
    return [this](const transport_id& t) -> result<discovery_log> {
      std::string key = t.traddr + ":" + t.trsvcid;
      visited.push_back(key);
      auto it = logs.find(key);
      if (it == logs.end()) return error{errc::io_error, "connect " + key + ": Connection refused"};
      return parse_discovery_log(make_log(1, it->second));
    };
  }
};

std::vector<std::string> nqns(const std::vector<discovery_entry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.subnqn + "@" + e.traddr);
  return out;
}

TEST(walk_discovery, without_follow_reads_only_the_first_service) {
  fake_fabric f;
  f.logs["10.0.0.1:8009"] = {nvme_entry("nqn.a", "10.0.0.1"), referral("10.0.0.2", "8009")};
  f.logs["10.0.0.2:8009"] = {nvme_entry("nqn.b", "10.0.0.2")};
  auto r = walk_discovery(f.source(), at("10.0.0.1", "8009"), false);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ(f.visited, std::vector<std::string>{"10.0.0.1:8009"});
}

TEST(walk_discovery, follows_referrals_breadth_first_once_each_despite_cycles) {
  fake_fabric f;
  f.logs["10.0.0.1:8009"] = {nvme_entry("nqn.a", "10.0.0.1"), referral("10.0.0.2", "8009"),
                             referral("10.0.0.3", "8009")};
  f.logs["10.0.0.2:8009"] = {nvme_entry("nqn.b", "10.0.0.2"), referral("10.0.0.1", "8009"),
                             referral("10.0.0.3", "8009")};
  f.logs["10.0.0.3:8009"] = {nvme_entry("nqn.c", "10.0.0.3"), nvme_entry("nqn.a", "10.0.0.1"),
                             referral("10.0.0.2", "8009")};
  auto r = walk_discovery(f.source(), at("10.0.0.1", "8009"), true);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(f.visited, (std::vector<std::string>{"10.0.0.1:8009", "10.0.0.2:8009", "10.0.0.3:8009"}));
  // Merged without duplicates (nqn.a is listed by two services, each referral twice).
  EXPECT_EQ(nqns(*r), (std::vector<std::string>{"nqn.a@10.0.0.1", std::string(discovery_nqn) + "@10.0.0.2",
                                                std::string(discovery_nqn) + "@10.0.0.3", "nqn.b@10.0.0.2",
                                                std::string(discovery_nqn) + "@10.0.0.1", "nqn.c@10.0.0.3"}));
}

TEST(walk_discovery, stops_at_the_depth_limit) {
  fake_fabric f;
  const int chain = discovery_max_referral_depth + 3;
  for (int i = 0; i < chain; ++i) {
    std::string me = "10.0.1." + std::to_string(i);
    f.logs[me + ":8009"] = {nvme_entry("nqn.n" + std::to_string(i), me),
                            referral("10.0.1." + std::to_string(i + 1), "8009")};
  }
  auto r = walk_discovery(f.source(), at("10.0.1.0", "8009"), true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f.visited.size(), static_cast<size_t>(discovery_max_referral_depth + 1));
}

TEST(walk_discovery, an_unreachable_referral_is_skipped) {
  fake_fabric f;
  f.logs["10.0.0.1:8009"] = {referral("10.0.0.9", "8009"), referral("10.0.0.2", "8009")};
  f.logs["10.0.0.2:8009"] = {nvme_entry("nqn.b", "10.0.0.2")};
  auto r = walk_discovery(f.source(), at("10.0.0.1", "8009"), true);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->back().subnqn, "nqn.b");
}

TEST(walk_discovery, the_first_service_failing_fails_the_call) {
  fake_fabric f;
  auto r = walk_discovery(f.source(), at("10.0.0.1", "8009"), true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("Connection refused"), std::string::npos);
}

TEST(walk_discovery, non_tcp_referrals_and_empty_subnqn) {
  fake_fabric f;
  auto rdma = referral("10.0.0.5", "4420");
  rdma.trtype = static_cast<uint8_t>(transport_type::rdma);
  auto no_nqn = referral("10.0.0.2", "8009");
  no_nqn.subnqn = "";
  f.logs["10.0.0.1:8009"] = {rdma, no_nqn};
  f.logs["10.0.0.2:8009"] = {nvme_entry("nqn.b", "10.0.0.2")};
  transport_id root = at("10.0.0.1", "8009");
  root.subnqn.clear();  // the well-known NQN
  std::vector<transport_id> asked;
  auto src = f.source();
  auto r = walk_discovery(
      [&](const transport_id& t) {
        asked.push_back(t);
        return src(t);
      },
      root, true);
  ASSERT_TRUE(r.ok()) << r.err().message;
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].subnqn, discovery_nqn);
  EXPECT_EQ(asked[1].traddr, "10.0.0.2");
  EXPECT_EQ(asked[1].subnqn, discovery_nqn);
}

}  // namespace
}  // namespace nvmfd
