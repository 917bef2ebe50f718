// The Changed Namespace List log page (NVMe Base 2.0 5.16.1.5) as our host reads it.
#include <gtest/gtest.h>

#include <vector>

#include "host/namespace_change_reader.h"
#include "proto/log_pages.h"
#include "proto/wire.h"

namespace nvmfd {
namespace {

le32 entry(uint32_t n) {
  le32 v;
  v = n;
  return v;
}

std::vector<std::byte> page_of(std::initializer_list<uint32_t> nsids, size_t bytes = 4096) {
  std::vector<std::byte> page(bytes);
  size_t off = 0;
  for (uint32_t n : nsids) {
    encode_wire(entry(n), std::span<std::byte>(page).subspan(off));
    off += 4;
  }
  return page;
}

TEST(changed_namespace_list, lists_the_nsids_up_to_the_first_zero) {
  auto r = parse_changed_namespace_list(page_of({1, 3, 7}));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, (std::vector<nsid_t>{nsid_t{1}, nsid_t{3}, nsid_t{7}}));
  auto empty = parse_changed_namespace_list(page_of({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE((*empty)->empty());
}

TEST(changed_namespace_list, a_full_page_has_1024_entries) {
  std::vector<std::byte> page(4096);
  for (uint32_t i = 0; i < 1024; ++i) encode_wire(entry(i + 1), std::span<std::byte>(page).subspan(4 * i));
  auto r = parse_changed_namespace_list(page);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 1024u);
  EXPECT_EQ((*r)->back(), nsid_t{1024});
}

TEST(changed_namespace_list, overflow_means_look_at_everything) {
  auto r = parse_changed_namespace_list(page_of({changed_ns_list_overflow}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(changed_namespace_list, malformed_pages_are_errors) {
  auto unordered = parse_changed_namespace_list(page_of({4, 2}));
  ASSERT_FALSE(unordered.ok());
  EXPECT_NE(unordered.err().message.find("2 follows 4"), std::string::npos) << unordered.err().message;
  EXPECT_FALSE(parse_changed_namespace_list(page_of({5, 5})).ok());
  EXPECT_FALSE(parse_changed_namespace_list(std::vector<std::byte>(2)).ok());
  // An overflow marker anywhere but first is just out of order.
  EXPECT_FALSE(parse_changed_namespace_list(page_of({1, changed_ns_list_overflow, 2})).ok());
}

}  // namespace
}  // namespace nvmfd
