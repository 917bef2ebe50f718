// keyring_* RPCs: SPDK's result shape and error codes, and the "keyring" config section (names
// and paths, never the material; loaded before the sections that name keys).
#include "rpc/keyring_rpc.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "fake_sections.h"
#include "rpc/config_loader.h"
#include "rpc_call.h"

namespace nvmfd {
namespace {

constexpr std::string_view secret = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";

class keyring_rpc_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "keyring_rpc.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    add_keyring_methods(methods_, ring_);  // first, as apps/nvmfd registers it
    target_.register_in(methods_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, mode_t mode = 0600) {
    std::string path = (dir_ / name).string();
    { std::ofstream(path) << secret << "\n"; }
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  result<json> call(const std::string& m, const json& params) {
    return test::call_method(methods_, m, params);
  }
  int code(const std::string& m, const json& params) { return test::call_code(methods_, m, params); }

  std::filesystem::path dir_;
  test::fake_target target_;
  keys::keyring ring_;
  rpc_method_table methods_;
};

TEST_F(keyring_rpc_test, get_keys_has_spdks_shape) {
  std::string path = write("k0");
  auto added = call("keyring_file_add_key", {{"name", "key0"}, {"path", path}});
  ASSERT_TRUE(added) << added.err().message;
  EXPECT_EQ(*added, json(true));
  auto keys = call("keyring_get_keys", json::object());
  ASSERT_TRUE(keys);
  // What SPDK v26.05's nvmf_tgt answers for an unused key file.
  EXPECT_EQ(*keys, json::parse(R"([{"name":"key0","module":"keyring_file","removed":false,
                                    "probed":false,"refcnt":1,"path":")" + path + R"("}])"));
  auto held = ring_.find("key0");
  EXPECT_EQ((*call("keyring_get_keys", json()))[0]["refcnt"], 2);
  EXPECT_EQ(*call("keyring_file_remove_key", {{"name", "key0"}}), json(true));
  auto after = call("keyring_get_keys", json());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0]["removed"], true);
  held.reset();
  EXPECT_EQ(*call("keyring_get_keys", json()), json::array());
}

TEST_F(keyring_rpc_test, errors_carry_spdks_codes) {
  std::string path = write("k0");
  ASSERT_EQ(code("keyring_file_add_key", {{"name", "key0"}, {"path", path}}), 0);
  EXPECT_EQ(code("keyring_file_add_key", {{"name", "key0"}, {"path", path}}), -EEXIST);
  EXPECT_EQ(code("keyring_file_add_key", {{"name", "k1"}, {"path", write("k1", 0644)}}), -EPERM);
  EXPECT_EQ(code("keyring_file_add_key", {{"name", "k2"}, {"path", "k0"}}), -EPERM);
  EXPECT_EQ(code("keyring_file_add_key", {{"name", "k3"}, {"path", (dir_ / "none").string()}}),
            -ENOENT);
  EXPECT_EQ(code("keyring_file_remove_key", {{"name", "nope"}}), -ENOKEY);
  EXPECT_EQ(code("keyring_file_add_key", {{"name", "k4"}}), -32602);
  EXPECT_EQ(code("keyring_file_add_key", {{"name", "k4"}, {"path", path}, {"x", 1}}), -32602);
  EXPECT_EQ(code("keyring_file_remove_key", json::object()), -32602);
  EXPECT_EQ(code("keyring_get_keys", {{"x", 1}}), -32602);
  auto perm = call("keyring_file_add_key", {{"name", "k1"}, {"path", (dir_ / "k1").string()}});
  ASSERT_FALSE(perm);
  EXPECT_NE(perm.err().message.find("Invalid permissions for key file"), std::string::npos);
}

TEST_F(keyring_rpc_test, save_config_keeps_references_and_loads_first) {
  std::string path = write("k0");
  ASSERT_TRUE(call("keyring_file_add_key", {{"name", "key0"}, {"path", path}}));
  ASSERT_TRUE(call("bdev_create", {{"name", "M0"}}));
  json saved = save_config(methods_);
  std::string text = saved.dump();
  EXPECT_EQ(text.find("AAECAw"), std::string::npos) << "key material in the config";
  ASSERT_EQ(saved["subsystems"][0]["subsystem"], "keyring");
  EXPECT_EQ(saved["subsystems"][0]["config"],
            json::parse(R"([{"method":"keyring_file_add_key","params":{"name":"key0","path":")" +
                        path + R"("}}])"));

  // A fresh daemon loads it back (the file is read again).
  keys::keyring ring2;
  rpc_method_table methods2;
  add_keyring_methods(methods2, ring2);
  test::fake_target target2;
  target2.register_in(methods2);
  ASSERT_TRUE(load_config(saved, methods2, {})) << "reload";
  auto k = ring2.find("key0");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->material(), secret);
}

TEST_F(keyring_rpc_test, spdks_keyring_section_loads) {
  // SPDK's save_config writes the section like this (rpc.py save_config of nvmf_tgt v26.05).
  std::string path = write("k0");
  json cfg = json::parse(R"({"subsystems":[{"subsystem":"keyring","config":[
      {"method":"keyring_file_add_key","params":{"name":"key0","path":")" + path + R"("}}]}]})");
  ASSERT_TRUE(load_config(cfg, methods_, {}));
  EXPECT_NE(ring_.find("key0"), nullptr);
}

}  // namespace
}  // namespace nvmfd
