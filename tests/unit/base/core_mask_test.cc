#include "base/core_mask.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <string>
#include <vector>

namespace nvmfd {

using cpus = std::vector<int>;

TEST(core_mask, masks_and_lists) {
  EXPECT_EQ(*cpus_from_core_mask("0x1"), cpus{0});
  EXPECT_EQ(*cpus_from_core_mask("0xA"), (cpus{1, 3}));
  EXPECT_EQ(*cpus_from_core_mask("[0,2-3]"), (cpus{0, 2, 3}));
  EXPECT_FALSE(cpus_from_core_mask("0x0"));
  EXPECT_FALSE(cpus_from_core_mask(""));
}

TEST(core_mask, cpu_lists_are_written_as_taskset_reads_them) {
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_EQ(format_cpu_list({0}), "0");
  EXPECT_EQ(format_cpu_list({0, 1}), "0-1");
  EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 6}), "0-3,6");
  EXPECT_EQ(format_cpu_list({1, 3, 5, 6, 7}), "1,3,5-7");
}

TEST(core_mask, a_cpu_outside_the_allowed_set_is_named) {
  EXPECT_TRUE(check_cpus_allowed({0}, {0}));
  EXPECT_TRUE(check_cpus_allowed({1, 3}, {0, 1, 2, 3}));
  auto r = check_cpus_allowed({0, 3}, {0});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  EXPECT_EQ(r.err().message, "core 3 is not available to this process (allowed: 0)");
  auto r2 = check_cpus_allowed({2}, {0, 1, 4, 5, 6});
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.err().message, "core 2 is not available to this process (allowed: 0-1,4-6)");
}

TEST(core_mask, without_a_mask_the_allowed_cpus_are_the_default) {
  const cpus allowed{2, 3, 5};
  EXPECT_EQ(*select_cpus("", cpu_default::all_allowed, allowed), allowed);
  EXPECT_EQ(*select_cpus("", cpu_default::first_allowed, allowed), cpus{2});
  EXPECT_FALSE(select_cpus("", cpu_default::all_allowed, {}));
}

TEST(core_mask, an_explicit_mask_must_be_within_the_allowed_cpus) {
  const cpus allowed{0};
  EXPECT_EQ(*select_cpus("0x1", cpu_default::all_allowed, allowed), cpus{0});
  auto r = select_cpus("0x4", cpu_default::all_allowed, allowed);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().message, "core 2 is not available to this process (allowed: 0)");
  auto bad = select_cpus("zz", cpu_default::first_allowed, allowed);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.err().code, errc::invalid_argument);
  EXPECT_EQ(*select_cpus("[1,3]", cpu_default::first_allowed, {0, 1, 2, 3}), (cpus{1, 3}));
}

TEST(core_mask, allowed_cpus_is_the_process_affinity) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  cpus want;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) want.push_back(c);
  auto got = allowed_cpus();
  ASSERT_TRUE(got) << got.err().message;
  EXPECT_EQ(*got, want);
}

// A thread narrowed to one CPU sees only that one (allowed_cpus asks for the calling
// thread's mask, which a process started under taskset inherits).
TEST(core_mask, allowed_cpus_follows_a_narrowed_affinity) {
  cpu_set_t saved;
  CPU_ZERO(&saved);
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  int last = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &saved)) last = c;
  ASSERT_GE(last, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(last, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  auto got = allowed_cpus();
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, cpus{last});
}

}  // namespace nvmfd
