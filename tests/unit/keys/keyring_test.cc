#include "keys/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "keys/key_file.h"
#include "tests/lib/wait_until.h"

namespace nvmfd::keys {
namespace {

constexpr std::string_view secret = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";

class keyring_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "keyring_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to dir/name with `mode` and returns the absolute path.
  std::string write(const std::string& name, std::string_view text, mode_t mode = 0600) {
    std::string path = (dir_ / name).string();
    { std::ofstream(path) << text; }
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(keyring_test, adds_finds_and_lists_a_key) {
  keyring ring;
  std::string path = write("key0", std::string(secret) + "\n");
  ASSERT_TRUE(ring.add_file_key("key0", path));
  auto k = ring.find("key0");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->name(), "key0");
  EXPECT_EQ(k->path(), path);
  EXPECT_EQ(k->material(), secret);  // trimmed
  EXPECT_FALSE(k->removed());
  EXPECT_EQ(ring.find("key1"), nullptr);

  auto keys = ring.list();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].name, "key0");
  EXPECT_EQ(keys[0].module, "keyring_file");
  EXPECT_EQ(keys[0].path, path);
  EXPECT_FALSE(keys[0].removed);
  EXPECT_FALSE(keys[0].probed);
  EXPECT_EQ(keys[0].refcnt, 2);  // the keyring's and ours
  k.reset();
  EXPECT_EQ(ring.list()[0].refcnt, 1);  // SPDK shows 1 for an unused key
}

TEST_F(keyring_test, refuses_files_others_may_access) {
  keyring ring;
  for (mode_t mode : {0644, 0640, 0604, 0602, 0620, 0610, 0601}) {
    std::string path = write("k", secret, mode);
    auto r = ring.add_file_key("k", path);
    ASSERT_FALSE(r) << std::oct << mode;
    EXPECT_EQ(r.err().code, errc::invalid_argument);
    EXPECT_NE(r.err().message.find("Invalid permissions for key file '" + path + "'"),
              std::string::npos)
        << r.err().message;
  }
  EXPECT_TRUE(ring.list().empty());
  // Owner-only modes are fine, as in SPDK (0400, 0600, 0700).
  for (mode_t mode : {0400, 0600, 0700}) {
    std::string name = "k" + std::to_string(mode);
    EXPECT_TRUE(ring.add_file_key(name, write(name, secret, mode))) << std::oct << mode;
  }
}

TEST_F(keyring_test, refuses_relative_missing_and_non_regular_paths) {
  keyring ring;
  auto rel = ring.add_file_key("k", "key0");
  ASSERT_FALSE(rel);
  EXPECT_NE(rel.err().message.find("Non-absolute"), std::string::npos);
  auto missing = ring.add_file_key("k", (dir_ / "nonexistent").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, errc::not_found);
  std::filesystem::create_directory(dir_ / "d");
  ::chmod((dir_ / "d").c_str(), 0700);
  auto d = ring.add_file_key("k", (dir_ / "d").string());
  ASSERT_FALSE(d);
  EXPECT_NE(d.err().message.find("not a regular file"), std::string::npos);
  EXPECT_FALSE(ring.add_file_key("", write("k", secret)));
  EXPECT_TRUE(ring.list().empty());
}

TEST_F(keyring_test, refuses_a_duplicate_name) {
  keyring ring;
  ASSERT_TRUE(ring.add_file_key("key0", write("a", secret)));
  auto r = ring.add_file_key("key0", write("b", secret));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::already_exists);
  EXPECT_EQ(ring.find("key0")->path(), (dir_ / "a").string());
}

TEST_F(keyring_test, a_removed_key_stays_valid_for_its_holders) {
  keyring ring;
  ASSERT_TRUE(ring.add_file_key("key0", write("a", secret)));
  auto held = ring.find("key0");
  ASSERT_TRUE(ring.remove("key0"));
  EXPECT_EQ(ring.find("key0"), nullptr);
  EXPECT_TRUE(held->removed());
  EXPECT_EQ(held->material(), secret);
  auto keys = ring.list();  // SPDK lists a removed key while it is referenced
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys[0].removed);
  EXPECT_EQ(keys[0].refcnt, 1);
  held.reset();
  EXPECT_TRUE(ring.list().empty());
  // The name is free again.
  EXPECT_TRUE(ring.add_file_key("key0", write("b", secret)));
}

TEST_F(keyring_test, get_names_a_missing_key) {
  keyring ring;
  ASSERT_TRUE(ring.add_file_key("key0", write("a", secret)));
  auto k = ring.get("key0");
  ASSERT_TRUE(k);
  EXPECT_EQ((*k)->material(), secret);
  auto missing = ring.get("key1");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, errc::not_found);
  EXPECT_EQ(missing.err().message, "Key 'key1' does not exist");
}

TEST_F(keyring_test, removing_an_unknown_key_fails) {
  keyring ring;
  auto r = ring.remove("nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::not_found);
  EXPECT_NE(r.err().message.find("'nope'"), std::string::npos);
}

TEST_F(keyring_test, the_material_is_the_files_text_at_add_time) {
  keyring ring;
  std::string path = write("a", secret);
  ASSERT_TRUE(ring.add_file_key("key0", path));
  write("a", "changed");
  EXPECT_EQ(ring.find("key0")->material(), secret);
}

TEST_F(keyring_test, readers_on_other_threads_see_whole_keys) {
  // A reader thread (a reactor's role) finds and lists while this thread (the RPC thread's role)
  // adds and removes; under ASan/TSan a race or a use after free shows here.
  keyring ring;
  std::string path = write("a", secret);
  std::atomic<bool> stop{false};
  std::atomic<long> seen{0};
  std::thread reader([&] {
    while (!stop.load()) {
      if (auto k = ring.find("key0")) {
        EXPECT_EQ(k->material(), secret);
        ++seen;
      }
      for (const auto& info : ring.list()) EXPECT_EQ(info.name, "key0");
    }
  });
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(ring.add_file_key("key0", path));
    ASSERT_TRUE(ring.remove("key0"));
  }
  // The key stays now, so the reader finds it however the threads were scheduled.
  ASSERT_TRUE(ring.add_file_key("key0", path));
  bool found = wait_until([&] { return seen.load() > 0; });
  stop = true;
  reader.join();
  EXPECT_TRUE(found);
}

TEST(key_file, refuses_a_file_too_large_to_be_a_key) {
  char tmpl[] = "/tmp/key_file_test.XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  std::string big(70 * 1024, 'A');
  ASSERT_EQ(::write(fd, big.data(), big.size()), static_cast<ssize_t>(big.size()));
  ::close(fd);
  auto r = read_key_file(tmpl);
  ::unlink(tmpl);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("larger than a key file"), std::string::npos);
}

}  // namespace
}  // namespace nvmfd::keys
