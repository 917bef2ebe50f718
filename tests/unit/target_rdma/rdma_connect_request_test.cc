// The checks of an RDMA CM connect request's private data: each reject status for the field
// it names, and what an accepted request asks for.
#include "target/rdma/rdma_connect_request.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "proto/wire.h"

namespace nvmfd {
namespace {

std::vector<std::byte> bytes_of(const rdma_cm_request& r, size_t len = sizeof(rdma_cm_request)) {
  std::vector<std::byte> v(sizeof(r));
  std::memcpy(v.data(), &r, sizeof(r));
  v.resize(len);
  return v;
}

rdma_cm_request io_queue(uint16_t qid, uint16_t size) {
  rdma_cm_request r{};
  r.qid = qid;
  r.hrqsize = size;
  r.hsqsize = static_cast<uint16_t>(size - 1);
  r.cntlid = 1;
  return r;
}

rdma_cm_reject_status rejected(const std::vector<std::byte>& pd, const rdma_transport_options& o = {}) {
  auto r = check_rdma_connect_request(pd, o);
  EXPECT_TRUE(std::holds_alternative<rdma_cm_reject_status>(r));
  return std::holds_alternative<rdma_cm_reject_status>(r) ? std::get<rdma_cm_reject_status>(r)
                                                          : rdma_cm_reject_status{};
}

TEST(rdma_connect_request, linux_admin_and_io_queues_are_accepted) {
  rdma_transport_options o;
  auto admin = check_rdma_connect_request(bytes_of(io_queue(0, 32)), o);
  ASSERT_TRUE(std::holds_alternative<rdma_queue_request>(admin));
  EXPECT_EQ(std::get<rdma_queue_request>(admin).qid, 0);
  EXPECT_EQ(std::get<rdma_queue_request>(admin).queue_size, 32);
  auto io = check_rdma_connect_request(bytes_of(io_queue(4, 128)), o);
  ASSERT_TRUE(std::holds_alternative<rdma_queue_request>(io));
  EXPECT_EQ(std::get<rdma_queue_request>(io).queue_size, 128);
  EXPECT_EQ(std::get<rdma_queue_request>(io).host_recv_size, 128);
  EXPECT_EQ(std::get<rdma_queue_request>(io).cntlid, 1);
}

TEST(rdma_connect_request, short_private_data_is_invalid_length) {
  EXPECT_EQ(rejected(bytes_of(io_queue(1, 32), 31)), rdma_cm_reject_status::invalid_length);
  EXPECT_EQ(rejected({}), rdma_cm_reject_status::invalid_length);
}

TEST(rdma_connect_request, unknown_record_format) {
  auto r = io_queue(1, 32);
  r.recfmt = 1;
  EXPECT_EQ(rejected(bytes_of(r)), rdma_cm_reject_status::invalid_recfmt);
}

TEST(rdma_connect_request, qid_beyond_the_io_queue_limit) {
  rdma_transport_options o;
  o.max_io_qpairs_per_ctrlr = 4;
  EXPECT_TRUE(std::holds_alternative<rdma_queue_request>(check_rdma_connect_request(bytes_of(io_queue(4, 32)), o)));
  EXPECT_EQ(rejected(bytes_of(io_queue(5, 32)), o), rdma_cm_reject_status::invalid_qid);
}

TEST(rdma_connect_request, queue_sizes_beyond_the_limits) {
  rdma_transport_options o;
  o.max_queue_depth = 64;
  o.max_aq_depth = 32;
  EXPECT_EQ(rejected(bytes_of(io_queue(1, 65)), o), rdma_cm_reject_status::invalid_hsqsize);
  EXPECT_EQ(rejected(bytes_of(io_queue(0, 33)), o), rdma_cm_reject_status::invalid_hsqsize);
  auto tiny = io_queue(1, 2);
  tiny.hsqsize = 0;  // a queue of one entry
  EXPECT_EQ(rejected(bytes_of(tiny), o), rdma_cm_reject_status::invalid_hsqsize);
}

TEST(rdma_connect_request, host_without_room_for_every_response) {
  auto r = io_queue(1, 32);
  r.hrqsize = 31;
  EXPECT_EQ(rejected(bytes_of(r)), rdma_cm_reject_status::invalid_hrqsize);
}

}  // namespace
}  // namespace nvmfd
