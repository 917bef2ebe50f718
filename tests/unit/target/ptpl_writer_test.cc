// ptpl_writer: writes come out in any order, the file only ever moves forward.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "target/ptpl_writer.h"

namespace nvmfd {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("nvmfd-ptpl-writer-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TEST(ptpl_writer_test, an_overtaken_change_writes_nothing_and_never_replaces_a_newer_one) {
  temp_dir dir;
  const fs::path file = dir.path / "ns.ptpl";
  ptpl_writer w(file.string());
  const uint64_t first = w.stage("one\n");
  const uint64_t second = w.stage("two\n");
  EXPECT_LT(first, second);
  ASSERT_TRUE(w.make_durable(second).ok());
  EXPECT_EQ(slurp(file), "two\n");
  fs::remove(file);
  ASSERT_TRUE(w.make_durable(first).ok()) << "durable with the second";
  EXPECT_FALSE(fs::exists(file)) << "the first change's write wrote nothing";
  // The write of an earlier change takes the newest text staged.
  const uint64_t third = w.stage("three\n");
  w.stage("four\n");
  ASSERT_TRUE(w.make_durable(third).ok());
  EXPECT_EQ(slurp(file), "four\n");
}

TEST(ptpl_writer_test, a_failed_write_is_done_again_by_the_next_one) {
  temp_dir dir;
  const fs::path sub = dir.path / "later";
  ptpl_writer w((sub / "ns.ptpl").string());
  const uint64_t n = w.stage("text\n");
  auto failed = w.make_durable(n);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.err().message.find((sub / "ns.ptpl.tmp").string()), std::string::npos) << failed.err().message;
  fs::create_directories(sub);
  ASSERT_TRUE(w.make_durable(n).ok()) << "not counted as durable after the failure";
  EXPECT_EQ(slurp(sub / "ns.ptpl"), "text\n");
}

}  // namespace
}  // namespace nvmfd
