// I/O through the whole stack: writes in-capsule and through R2T/H2CData, reads through
// C2HData, with every digest combination; pipelines; out-of-order completion; Flush,
// Write Zeroes and Dataset Management.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "proto/features.h"
#include "proto/identify.h"
#include "target_test.h"

namespace nvmfd {
namespace {

struct digest_mode {
  const char* name;
  bool hdgst;
  bool ddgst;
};

void PrintTo(const digest_mode& m, std::ostream* os) { *os << m.name; }

class io_test : public target_test, public ::testing::WithParamInterface<digest_mode> {
 protected:
  client_options digest_options() const {
    client_options o;
    o.hdgst = GetParam().hdgst;
    o.ddgst = GetParam().ddgst;
    return o;
  }
};

constexpr uint32_t kib = 1024;

struct rw_row {
  const char* name;
  uint32_t nsid;
  uint32_t block_size;
  uint64_t slba;
  uint32_t bytes;
  write_mode mode;
};

TEST_P(io_test, write_then_read_back_identical) {
  auto h = connect_controller(digest_options());
  ASSERT_TRUE(ok(h));
  ASSERT_EQ(h->io.header_digest(), GetParam().hdgst);
  ASSERT_EQ(h->io.data_digest(), GetParam().ddgst);
  const std::vector<rw_row> rows{
      {"512 B in-capsule", target_fixture::ns_512, 512, 0, 512, write_mode::in_capsule},
      {"4 KiB in-capsule", target_fixture::ns_512, 512, 8, 4 * kib, write_mode::in_capsule},
      {"4 KiB through R2T", target_fixture::ns_512, 512, 16, 4 * kib, write_mode::r2t},
      {"64 KiB through R2T", target_fixture::ns_512, 512, 64, 64 * kib, write_mode::r2t},
      {"1 MiB through R2T (8 H2CData PDUs)", target_fixture::ns_512, 512, 2048, 1024 * kib, write_mode::r2t},
      {"4 KiB block, in-capsule", target_fixture::ns_4k, 4096, 0, 4 * kib, write_mode::in_capsule},
      {"4 KiB blocks, 1 MiB through R2T", target_fixture::ns_4k, 4096, 100, 1024 * kib, write_mode::r2t},
      {"last blocks of the namespace", target_fixture::ns_512, 512, target_fixture::ns_bytes / 512 - 128, 64 * kib,
       write_mode::r2t},
  };
  uint32_t seed = 1;
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto data = random_bytes(row.bytes, seed++);
    ASSERT_TRUE(succeeded(h->io.write(row.nsid, row.slba, data, row.block_size, row.mode)));
    auto r = h->io.read(row.nsid, row.slba, row.bytes / row.block_size, row.block_size);
    ASSERT_TRUE(succeeded(r));
    EXPECT_TRUE(r->data == data);
  }
}

TEST_P(io_test, reads_of_4k_to_1m_return_the_written_bytes) {
  auto h = connect_controller(digest_options());
  ASSERT_TRUE(ok(h));
  auto data = random_bytes(1024 * kib, 42);
  ASSERT_TRUE(succeeded(h->io.write(target_fixture::ns_512, 0, data, 512, write_mode::r2t)));
  for (uint32_t bytes = 4 * kib; bytes <= 1024 * kib; bytes *= 2) {
    SCOPED_TRACE(bytes);
    // From the middle of the written range where it fits, so offsets are checked too.
    const uint32_t offset = bytes < 1024 * kib ? (1024 * kib - bytes) / 2 / 512 * 512 : 0;
    auto r = h->io.read(target_fixture::ns_512, offset / 512, bytes / 512, 512);
    ASSERT_TRUE(succeeded(r));
    EXPECT_TRUE(std::equal(r->data.begin(), r->data.end(), data.begin() + offset));
  }
}

TEST_P(io_test, r2t_write_in_4k_h2c_data_pdus) {
  auto o = digest_options();
  o.h2c_chunk = 4 * kib;  // 16 H2CData PDUs for one R2T
  auto h = connect_controller(o);
  ASSERT_TRUE(ok(h));
  auto data = random_bytes(64 * kib, 7);
  ASSERT_TRUE(succeeded(h->io.write(target_fixture::ns_4k, 3, data, 4096, write_mode::r2t)));
  auto r = h->io.read(target_fixture::ns_4k, 3, 16, 4096);
  ASSERT_TRUE(succeeded(r));
  EXPECT_TRUE(r->data == data);
}

TEST_P(io_test, pipeline_of_32_writes_then_32_reads) {
  auto h = connect_controller(digest_options());
  ASSERT_TRUE(ok(h));
  constexpr int depth = 32;
  std::map<uint16_t, int> which;
  std::vector<std::vector<std::byte>> data;
  for (int i = 0; i < depth; ++i) {
    // Alternate in-capsule 4 KiB and R2T 16 KiB writes, each to its own 16 KiB slot.
    const bool small = i % 2 == 0;
    data.push_back(random_bytes(small ? 4 * kib : 16 * kib, 100 + i));
    auto cid = h->io.submit_write(target_fixture::ns_512, uint64_t(i) * 32, data.back(), 512,
                                  small ? write_mode::in_capsule : write_mode::r2t);
    ASSERT_TRUE(ok(cid));
    which[*cid] = i;
  }
  EXPECT_EQ(h->io.outstanding(), size_t{depth});
  std::set<uint16_t> completed;
  for (int i = 0; i < depth; ++i) {
    auto c = h->io.wait_any();
    ASSERT_TRUE(ok(c));
    EXPECT_TRUE(c->second.status().ok()) << "write " << which[c->first] << ": " << describe(c->second.status());
    EXPECT_TRUE(completed.insert(c->first).second) << "CID " << c->first << " completed twice";
  }
  which.clear();
  for (int i = 0; i < depth; ++i) {
    auto cid = h->io.submit_read(target_fixture::ns_512, uint64_t(i) * 32, uint32_t(data[i].size() / 512), 512);
    ASSERT_TRUE(ok(cid));
    which[*cid] = i;
  }
  for (int i = 0; i < depth; ++i) {
    auto c = h->io.wait_any();
    ASSERT_TRUE(ok(c));
    const int idx = which[c->first];
    ASSERT_TRUE(c->second.status().ok()) << "read " << idx << ": " << describe(c->second.status());
    EXPECT_TRUE(c->second.data == data[idx]) << "read " << idx;
  }
}

// The target's receive state machine resumes anywhere: every PDU arrives in tiny pieces
// (across the common header, the header digest, the data and the data digest).
TEST_P(io_test, pdus_split_into_tiny_sends) {
  auto o = digest_options();
  auto h = connect_controller(o);
  ASSERT_TRUE(ok(h));
  h->io.options().send_fragment = 1;
  auto small = random_bytes(4 * kib, 61);
  ASSERT_TRUE(succeeded(h->io.write(target_fixture::ns_512, 0, small, 512, write_mode::in_capsule)));
  h->io.options().send_fragment = 7;
  auto big = random_bytes(64 * kib, 62);
  ASSERT_TRUE(succeeded(h->io.write(target_fixture::ns_512, 8, big, 512, write_mode::r2t)));
  h->io.options().send_fragment = 3;
  auto r = h->io.read(target_fixture::ns_512, 0, 8 + 128, 512);
  ASSERT_TRUE(succeeded(r));
  EXPECT_TRUE(std::equal(small.begin(), small.end(), r->data.begin()));
  EXPECT_TRUE(std::equal(big.begin(), big.end(), r->data.begin() + 4 * kib));
}

// Many PDUs in one segment: the target must take them all from one read.
TEST_P(io_test, many_capsules_in_one_send) {
  auto h = connect_controller(digest_options());
  ASSERT_TRUE(ok(h));
  constexpr int n = 48;
  std::vector<std::vector<std::byte>> data;
  h->io.begin_batch();
  for (int i = 0; i < n; ++i) {
    data.push_back(random_bytes(2 * kib, 500 + i));
    ASSERT_TRUE(ok(h->io.submit_write(target_fixture::ns_512, uint64_t(i) * 4, data.back(), 512,
                                      write_mode::in_capsule)));
  }
  ASSERT_TRUE(ok(h->io.flush_batch()));
  for (int i = 0; i < n; ++i) {
    auto c = h->io.wait_any();
    ASSERT_TRUE(ok(c));
    EXPECT_TRUE(c->second.status().ok()) << describe(c->second.status());
  }
  std::map<uint16_t, int> which;
  h->io.begin_batch();
  for (int i = 0; i < n; ++i) {
    auto cid = h->io.submit_read(target_fixture::ns_512, uint64_t(i) * 4, 4, 512);
    ASSERT_TRUE(ok(cid));
    which[*cid] = i;
  }
  ASSERT_TRUE(ok(h->io.flush_batch()));
  for (int i = 0; i < n; ++i) {
    auto c = h->io.wait_any();
    ASSERT_TRUE(ok(c));
    ASSERT_TRUE(c->second.status().ok()) << describe(c->second.status());
    EXPECT_TRUE(c->second.data == data[which[c->first]]) << "read " << which[c->first];
  }
}

INSTANTIATE_TEST_SUITE_P(digests, io_test,
                         ::testing::Values(digest_mode{"none", false, false}, digest_mode{"header", true, false},
                                           digest_mode{"data", false, true}, digest_mode{"both", true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

class io_commands_test : public target_test {};

// A write waiting for its data does not hold up a later read: the read completes first,
// and the client matches completions by CID.
TEST_F(io_commands_test, completions_arrive_out_of_submission_order) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto data = random_bytes(8 * kib, 5);
  auto w = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, 0, 16);
  test_client::set_sgl_transport(w, 8 * kib);
  auto write_cid = h->io.submit(w);  // manual R2T: the data is sent below
  ASSERT_TRUE(ok(write_cid));
  auto r2t = h->io.wait_r2t(*write_cid);
  ASSERT_TRUE(ok(r2t));
  EXPECT_EQ(r2t->r2to.get(), 0u);
  EXPECT_EQ(r2t->r2tl.get(), 8 * kib);

  auto read_cid = h->io.submit_read(target_fixture::ns_512, 1000, 8, 512);
  ASSERT_TRUE(ok(read_cid));
  auto first = h->io.wait_any();
  ASSERT_TRUE(ok(first));
  EXPECT_EQ(first->first, *read_cid) << "the read was submitted second but must complete first";
  EXPECT_TRUE(first->second.status().ok());

  ASSERT_TRUE(ok(h->io.send_h2c_data(*write_cid, r2t->ttag.get(), 0, data, true)));
  EXPECT_TRUE(succeeded(h->io.wait(*write_cid)));
  auto back = h->io.read(target_fixture::ns_512, 0, 16, 512);
  ASSERT_TRUE(succeeded(back));
  EXPECT_TRUE(back->data == data);

  // Admin queue: an AER stays outstanding while later commands complete.
  auto aer = h->admin.submit_async_event_request();
  ASSERT_TRUE(ok(aer));
  EXPECT_TRUE(succeeded(h->admin.keep_alive()));
  EXPECT_TRUE(succeeded(h->admin.identify(static_cast<uint8_t>(identify_cns::controller))));
  EXPECT_EQ(h->admin.outstanding(), 1u);
}

TEST_F(io_commands_test, flush_succeeds) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  EXPECT_TRUE(succeeded(h->io.flush(target_fixture::ns_512)));
  EXPECT_TRUE(succeeded(h->io.flush(target_fixture::ns_4k)));
}

TEST_F(io_commands_test, write_zeroes_then_read_returns_zeroes) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto data = random_bytes(64 * kib, 9);
  ASSERT_TRUE(succeeded(h->io.write(target_fixture::ns_512, 256, data, 512, write_mode::r2t)));
  // Zero the middle 32 KiB; the 16 KiB on each side keep their data.
  ASSERT_TRUE(succeeded(h->io.write_zeroes(target_fixture::ns_512, 256 + 32, 64)));
  auto r = h->io.read(target_fixture::ns_512, 256, 128, 512);
  ASSERT_TRUE(succeeded(r));
  std::span<const std::byte> got(r->data);
  EXPECT_TRUE(std::equal(got.begin(), got.begin() + 16 * kib, data.begin()));
  EXPECT_TRUE(all_zero(got.subspan(16 * kib, 32 * kib)));
  EXPECT_TRUE(std::equal(got.begin() + 48 * kib, got.end(), data.begin() + 48 * kib));
}

TEST_F(io_commands_test, deallocate_then_read_returns_zeroes) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  // DLFEAT says deallocated blocks read as zeroes.
  auto id = h->admin.identify(static_cast<uint8_t>(identify_cns::namespace_), target_fixture::ns_4k);
  ASSERT_TRUE(succeeded(id));
  ASSERT_EQ(id->data_as<identify_namespace>().dlfeat & 0x7, 0x1);

  auto data = random_bytes(256 * kib, 11);
  ASSERT_TRUE(succeeded(h->io.write(target_fixture::ns_4k, 0, data, 4096, write_mode::r2t)));
  const std::vector<lba_range> ranges{{0, 4}, {10, 6}, {60, 4}};
  ASSERT_TRUE(succeeded(h->io.dsm_deallocate(target_fixture::ns_4k, ranges)));
  auto r = h->io.read(target_fixture::ns_4k, 0, 64, 4096);
  ASSERT_TRUE(succeeded(r));
  for (uint32_t lba = 0; lba < 64; ++lba) {
    const bool gone = lba < 4 || (lba >= 10 && lba < 16) || lba >= 60;
    std::span<const std::byte> block(r->data.data() + lba * 4096, 4096);
    if (gone)
      EXPECT_TRUE(all_zero(block)) << "LBA " << lba << " was deallocated";
    else
      EXPECT_TRUE(std::equal(block.begin(), block.end(), data.begin() + lba * 4096)) << "LBA " << lba;
  }
}

// Two I/O queues of one controller (on different reactors: connections are spread
// round-robin) see each other's writes.
TEST_F(io_commands_test, two_io_queues_of_one_controller_share_the_namespace) {
  auto p = params();
  p.io_queues = 2;
  auto h = test_controller::connect(p);
  ASSERT_TRUE(ok(h));
  // Fixed once I/O queues exist (NVMe Base 2.0 5.27.1.7).
  EXPECT_TRUE(has_status(h->admin.set_number_of_queues(4), nvme_status::generic(sc_generic::command_sequence_error)));
  test_client q2;
  ASSERT_TRUE(ok(q2.connect(addr(), port())));
  ASSERT_TRUE(succeeded(q2.fabrics_connect(target_fixture::open_nqn, 2, 63, h->cntlid)));
  for (uint32_t i = 0; i < 8; ++i) {
    auto data = random_bytes(32 * kib, 700 + i);
    test_client& writer = i % 2 ? q2 : h->io;
    test_client& reader = i % 2 ? h->io : q2;
    ASSERT_TRUE(succeeded(writer.write(target_fixture::ns_4k, i * 8, data, 4096, write_mode::r2t)));
    auto r = reader.read(target_fixture::ns_4k, i * 8, 8, 4096);
    ASSERT_TRUE(succeeded(r));
    EXPECT_TRUE(r->data == data) << "round " << i;
  }
}

// HPDA: the target aligns C2HData to the host's requested alignment (the client checks
// PDO against it like any other header rule).
TEST_F(io_commands_test, read_with_host_pdu_data_alignment) {
  for (uint8_t hpda : {1, 7, 31}) {  // 8, 32 and 128 bytes
    SCOPED_TRACE(static_cast<int>(hpda));
    client_options o;
    o.hpda = hpda;
    o.hdgst = true;
    o.ddgst = true;
    auto h = connect_controller(o);
    ASSERT_TRUE(ok(h));
    auto data = random_bytes(16 * kib, 13 + hpda);
    ASSERT_TRUE(succeeded(h->io.write(target_fixture::ns_512, 0, data, 512, write_mode::r2t)));
    auto r = h->io.read(target_fixture::ns_512, 0, 32, 512);
    ASSERT_TRUE(succeeded(r));
    EXPECT_TRUE(r->data == data);
    auto id = h->admin.identify(static_cast<uint8_t>(identify_cns::controller));
    EXPECT_TRUE(succeeded(id)) << "admin queue C2HData aligned too";
  }
}

}  // namespace
}  // namespace nvmfd
