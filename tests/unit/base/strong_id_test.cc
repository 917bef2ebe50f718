// strong_id: IDs of different kinds do not mix, and nothing converts to or from an integer
// silently; they still compare, hash and format like the integer they wrap.
#include "base/strong_id.h"

#include <gtest/gtest.h>

#include <type_traits>
#include <unordered_set>

namespace nvmfd {
namespace {

static_assert(!std::is_convertible_v<uint32_t, nsid_t>, "an integer is not silently an nsid");
static_assert(!std::is_convertible_v<nsid_t, uint32_t>, "an nsid is not silently an integer");
static_assert(!std::is_convertible_v<cntlid_t, qid_t>, "a cntlid is not a qid");
static_assert(!std::is_constructible_v<qid_t, cntlid_t>, "not even explicitly");
static_assert(!std::is_assignable_v<nsid_t&, uint32_t>, "assigning a bare integer does not compile");
static_assert(sizeof(nsid_t) == sizeof(uint32_t) && sizeof(qid_t) == sizeof(uint16_t), "no overhead");
static_assert(std::is_trivially_copyable_v<cntlid_t>);

TEST(strong_id, compares_hashes_and_formats_like_its_value) {
  EXPECT_EQ(nsid_t{7}, nsid_t{7});
  EXPECT_LT(nsid_t{1}, nsid_t{2});
  EXPECT_NE(qid_t{1}, admin_qid);
  EXPECT_EQ(nsid_t{}.value, 0u);
  std::unordered_set<cntlid_t> ids{cntlid_t{1}, cntlid_t{1}, cntlid_t{0xffef}};
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(fmt::format("nsid {} qid {:>3} cntlid {:#x}", nsid_t{5}, qid_t{2}, cntlid_t{0x1f}), "nsid 5 qid   2 cntlid 0x1f");
  EXPECT_EQ(broadcast_nsid.value, 0xffffffffu);
}

}  // namespace
}  // namespace nvmfd
