// nvme-cli output formats: the Identify and Discovery data that Linux 6.1 nvmet returned in
// the capture of nvme_cli_golden.h, rebuilt here, must print byte for byte as nvme-cli 2.3 did.
#include <gtest/gtest.h>

#include <cstring>

#include "tests/unit/host/discovery_log_image.h"
#include "apps/nvmfctl/identify_json.h"
#include "nvme_cli_golden.h"
#include "proto/wire.h"

namespace nvmfd {
namespace {

identify_controller nvmet_id_ctrl() {
  identify_controller id{};
  set_padded(id.sn, "capserial123", ' ');
  set_padded(id.mn, "capmodel", ' ');
  set_padded(id.fr, "6.1.0-56", ' ');
  id.rab = 6;
  id.cmic = 11;
  id.cntlid = 1;
  id.ver = 0x10300;
  id.oaes = 0x900;
  id.ctratt = 0x41;
  id.cntrltype = 1;
  id.acl = 3;
  id.aerl = 3;
  id.frmw = 3;
  id.lpa = 7;
  id.elpe = 127;
  id.kas = 10;
  id.anatt = 10;
  id.anacap = 31;
  id.anagrpmax = 128;
  id.nanagrpid = 128;
  id.sqes = 0x66;
  id.cqes = 0x44;
  id.maxcmd = 1024;
  id.nn = 1024;
  id.oncs = 0xc;
  id.vwc = 1;
  id.nwpc = 1;
  id.sgls = 0x100001;
  id.mnan = 1024;
  set_padded(id.subnqn, "nqn.2014-08.io.linux-peer:cap", '\0');
  id.ioccsz = 1028;
  id.iorcsz = 1;
  id.msdbd = 1;
  id.psd[0].mp = 2500;
  id.psd[0].enlat = 16;
  id.psd[0].exlat = 4;
  return id;
}

identify_namespace nvmet_id_ns() {
  identify_namespace ns{};
  ns.nsze = 16384;
  ns.ncap = 16384;
  ns.nuse = 16384;
  ns.nmic = 1;
  ns.anagrpid = 1;
  ns.lbaf[0].lbads = 12;
  return ns;
}

discovery_log nvmet_discovery_log() {
  test::entry_spec cur;
  cur.subtype = static_cast<uint8_t>(subsystem_type::current_discovery);
  cur.treq = treq_bits::sq_flow_control_disable;
  cur.subnqn = std::string(discovery_nqn);
  test::entry_spec nvm;
  nvm.treq = treq_bits::sq_flow_control_disable;
  nvm.subnqn = "nqn.2014-08.io.linux-peer:cap";
  auto log = parse_discovery_log(test::make_log(2, {cur, nvm}));
  EXPECT_TRUE(log.ok());
  return *log;
}

TEST(nvme_cli_format, id_ctrl_json_matches_nvme_cli_byte_for_byte) {
  EXPECT_EQ(to_nvme_cli_text(id_ctrl_json(nvmet_id_ctrl())) + "\n", test::nvme_id_ctrl_json);
}

TEST(nvme_cli_format, id_ctrl_text_matches_nvme_cli_byte_for_byte) {
  EXPECT_EQ(id_ctrl_text(nvmet_id_ctrl()), test::nvme_id_ctrl_normal);
}

TEST(nvme_cli_format, id_ns_json_matches_nvme_cli_byte_for_byte) {
  EXPECT_EQ(to_nvme_cli_text(id_ns_json(nvmet_id_ns())) + "\n", test::nvme_id_ns_json);
}

TEST(nvme_cli_format, id_ns_text_matches_nvme_cli_byte_for_byte) {
  EXPECT_EQ(id_ns_text(nvmet_id_ns(), nsid_t{1}), test::nvme_id_ns_normal);
}

TEST(nvme_cli_format, discovery_json_matches_nvme_cli_byte_for_byte) {
  EXPECT_EQ(to_nvme_cli_text(discovery_log_json(nvmet_discovery_log())) + "\n", test::nvme_discover_json);
}

TEST(nvme_cli_format, discovery_text_matches_nvme_cli_byte_for_byte) {
  EXPECT_EQ(discovery_log_text(nvmet_discovery_log()), test::nvme_discover_normal);
}

TEST(nvme_cli_format, id_ctrl_json_value_encodings) {
  auto id = nvmet_id_ctrl();
  id.ieee[0] = 0x38;
  id.ieee[1] = 0x25;
  id.ieee[2] = 0x00;
  set_le128(id.tnvmcap, 0);
  id.tnvmcap[8] = 1;  // 2^64: printed as a decimal string, as nvme-cli's uint128
  id.oaes = 0x80000900;
  id.npss = 1;
  id.psd[1].flags = 3;
  id.psd[1].ips = 0x80;
  id.psd[1].apw_aps = 0x42;
  std::memset(id.fguid, 0xab, sizeof(id.fguid));
  set_padded(id.subnqn, "", '\0');
  auto j = id_ctrl_json(id);
  EXPECT_EQ(j["ieee"], 0x002538);
  EXPECT_EQ(j["tnvmcap"], "18446744073709551616");
  EXPECT_EQ(j["oaes"], 0x80000900u);  // unsigned, where nvme-cli 2.3 would wrap to negative
  EXPECT_EQ(j["fguid"], "abababab-abab-abab-abab-abababababab");
  EXPECT_FALSE(j.contains("subnqn"));  // only when set, as nvme-cli
  ASSERT_EQ(j["psds"].size(), 2u);
  EXPECT_EQ(j["psds"][1]["flags"], 3);
  EXPECT_EQ(j["psds"][1]["idle_scale"], 2);
  EXPECT_EQ(j["psds"][1]["active_power_work"], 2);
  EXPECT_EQ(j["psds"][1]["active_scale"], 1);
  // Key order and string/number kinds of every field nvme-cli 2.3 prints.
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys.front(), "vid");
  EXPECT_EQ(keys.back(), "psds");
  for (const char* s : {"sn", "mn", "fr", "fguid", "tnvmcap", "unvmcap", "megcap", "maxdna"})
    EXPECT_TRUE(j[s].is_string()) << s;
  for (const char* n : {"vid", "ver", "sgls", "ioccsz", "ofcs", "nn", "kas"}) EXPECT_TRUE(j[n].is_number()) << n;
}

TEST(nvme_cli_format, id_ns_optional_fields_and_lba_formats) {
  auto ns = nvmet_id_ns();
  ns.nsfeat = nsfeat_bits::optperf;
  ns.npwg = 7;
  ns.nlbaf = 1;
  ns.lbaf[1].lbads = 9;
  ns.lbaf[1].ms = 8;
  ns.lbaf[1].rp = 2;
  ns.flbas = identify_namespace::make_flbas(1);
  ns.reserved81[1] = 0;  // NULBAF
  ns.eui64[0] = 0x12;
  ns.nguid[15] = 0xfe;
  auto j = id_ns_json(ns);
  EXPECT_EQ(j["npwg"], 7);
  EXPECT_TRUE(j.contains("nows"));
  ASSERT_EQ(j["lbafs"].size(), 2u);
  EXPECT_EQ(j["lbafs"][1]["ms"], 8);
  EXPECT_EQ(j["lbafs"][1]["ds"], 9);
  EXPECT_EQ(j["lbafs"][1]["rp"], 2);
  EXPECT_EQ(j["eui64"], "1200000000000000");
  EXPECT_EQ(j["nguid"], "000000000000000000000000000000fe");
  auto text = id_ns_text(ns, nsid_t{3});
  EXPECT_NE(text.find("NVME Identify Namespace 3:\n"), std::string::npos);
  EXPECT_NE(text.find("npwg    : 7\n"), std::string::npos);
  EXPECT_NE(text.find("lbaf  0 : ms:0   lbads:12 rp:0 \n"), std::string::npos) << text;
  EXPECT_NE(text.find("lbaf  1 : ms:8   lbads:9  rp:0x2 (in use)\n"), std::string::npos) << text;
}

TEST(nvme_cli_format, too_many_lba_formats_stop_at_64) {
  auto ns = nvmet_id_ns();
  ns.nlbaf = 255;
  EXPECT_EQ(id_ns_json(ns)["lbafs"].size(), 64u);
}

TEST(nvme_cli_format, libnvme_names) {
  EXPECT_EQ(nvmf_trtype_str(3), "tcp");
  EXPECT_EQ(nvmf_trtype_str(254), "loop");
  EXPECT_EQ(nvmf_trtype_str(0), "unrecognized");
  EXPECT_EQ(nvmf_adrfam_str(2), "ipv6");
  EXPECT_EQ(nvmf_adrfam_str(4), "fibre-channel");
  EXPECT_EQ(nvmf_subtype_str(1), "discovery subsystem referral");
  EXPECT_EQ(nvmf_subtype_str(9), "unrecognized");
  EXPECT_EQ(nvmf_treq_str(3), "unrecognized");
  EXPECT_EQ(nvmf_treq_str(5), "unrecognized");
  EXPECT_EQ(nvmf_eflags_str(6), "explicit discovery connections, no cdc connectivity");
  EXPECT_EQ(nvmf_eflags_str(8), "unrecognized");
  EXPECT_EQ(nvmf_sectype_str(2), "tls13");
}

TEST(nvme_cli_format, json_c_layout_and_escapes) {
  cli_json j;
  j["empty_array"] = cli_json::array();
  j["empty_object"] = cli_json::object();
  j["text"] = "a/b \"q\" \\ \t\x01";
  j["neg"] = -1;
  j["big"] = uint64_t{18446744073709551615u};
  j["nested"] = cli_json::array({cli_json{{"x", 1}}});
  EXPECT_EQ(to_nvme_cli_text(j),
            "{\n"
            "  \"empty_array\":[\n"
            "  ],\n"
            "  \"empty_object\":{\n"
            "  },\n"
            "  \"text\":\"a/b \\\"q\\\" \\\\ \\t\\u0001\",\n"
            "  \"neg\":-1,\n"
            "  \"big\":18446744073709551615,\n"
            "  \"nested\":[\n"
            "    {\n"
            "      \"x\":1\n"
            "    }\n"
            "  ]\n"
            "}");
}

TEST(nvme_cli_format, discovery_text_blank_adrfam_without_address) {
  test::entry_spec s;
  s.traddr = "";
  auto log = parse_discovery_log(test::make_log(1, {s}));
  ASSERT_TRUE(log.ok());
  auto text = discovery_log_text(*log);
  EXPECT_NE(text.find("adrfam:  \n"), std::string::npos) << text;
  EXPECT_EQ(discovery_log_json(*log)["records"][0]["adrfam"], "ipv4");
}

}  // namespace
}  // namespace nvmfd
