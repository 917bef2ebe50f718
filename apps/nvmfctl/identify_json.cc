#include "identify_json.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace nvmfd {

namespace {

std::string uint128_text(const uint8_t (&le)[16]) {
  unsigned __int128 v = 0;
  for (int i = 15; i >= 0; --i) v = (v << 8) | le[i];
  if (v == 0) return "0";
  std::string s;
  while (v) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

// printf("%-.*s", N, field): the bytes up to the first NUL, padding kept.
template <size_t N>
std::string raw_text(const std::array<char, N>& field) {
  size_t n = 0;
  while (n < N && field[n] != '\0') ++n;
  return std::string(field.data(), n);
}

template <size_t N>
std::string hex_bytes(const uint8_t (&b)[N]) {
  std::string s;
  for (uint8_t c : b) s += fmt::format("{:02x}", c);
  return s;
}

std::string uuid_text(const uint8_t (&b)[16]) {
  std::string h = hex_bytes(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

uint32_t ieee_value(const identify_controller& id) {
  return uint32_t{id.ieee[2]} << 16 | uint32_t{id.ieee[1]} << 8 | id.ieee[0];
}

// Identify Namespace byte 82 (NULBAF, NVM Command Set 1.0); ours is in reserved81.
uint8_t nulbaf(const identify_namespace& ns) { return ns.reserved81[1]; }

unsigned power_scale(uint8_t b) { return (b >> 6) & 3; }

// "%#x" as printf prints it: 0 stays "0".
std::string hex_alt(uint64_t v) { return v ? fmt::format("{:#x}", v) : "0"; }

void escape_into(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u00{:02x}", c);
        else
          out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

void indent(std::string& out, int level) { out.append(static_cast<size_t>(level) * 2, ' '); }

void print_value(std::string& out, const cli_json& j, int level) {
  switch (j.type()) {
    case cli_json::value_t::object: {
      out += "{\n";
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ",\n";
        first = false;
        indent(out, level + 1);
        escape_into(out, it.key());
        out.push_back(':');
        print_value(out, it.value(), level + 1);
      }
      if (!first) out.push_back('\n');
      indent(out, level);
      out.push_back('}');
      break;
    }
    case cli_json::value_t::array: {
      out += "[\n";
      bool first = true;
      for (const auto& v : j) {
        if (!first) out += ",\n";
        first = false;
        indent(out, level + 1);
        print_value(out, v, level + 1);
      }
      if (!first) out.push_back('\n');
      indent(out, level);
      out.push_back(']');
      break;
    }
    case cli_json::value_t::string: escape_into(out, j.get_ref<const std::string&>()); break;
    default: out += j.dump(); break;  // numbers, booleans, null
  }
}

std::string_view table_str(std::initializer_list<std::pair<unsigned, std::string_view>> table, unsigned v) {
  for (auto& [k, s] : table)
    if (k == v) return s;
  return "unrecognized";
}

}  // namespace

std::string_view nvmf_trtype_str(uint8_t v) {
  return table_str({{1, "rdma"}, {2, "fc"}, {3, "tcp"}, {254, "loop"}}, v);
}
std::string_view nvmf_adrfam_str(uint8_t v) {
  return table_str({{0, "pci"}, {1, "ipv4"}, {2, "ipv6"}, {3, "infiniband"}, {4, "fibre-channel"}}, v);
}
std::string_view nvmf_subtype_str(uint8_t v) {
  return table_str({{1, "discovery subsystem referral"}, {2, "nvme subsystem"}, {3, "current discovery subsystem"}},
                   v);
}
std::string_view nvmf_treq_str(uint8_t v) {
  return table_str({{0, "not specified"},
                    {1, "required"},
                    {2, "not required"},
                    {4, "not specified, sq flow control disable supported"}},
                   v);
}
std::string_view nvmf_eflags_str(uint16_t v) {
  return table_str({{0, "none"},
                    {1, "duplicate discovery information"},
                    {2, "explicit discovery connections"},
                    {3, "explicit discovery connections, duplicate discovery information"},
                    {4, "no cdc connectivity"},
                    {5, "duplicate discovery information, no cdc connectivity"},
                    {6, "explicit discovery connections, no cdc connectivity"},
                    {7, "explicit discovery connections, duplicate discovery information, no cdc connectivity"}},
                   v);
}
std::string_view nvmf_sectype_str(uint8_t v) { return table_str({{0, "none"}, {1, "tls"}, {2, "tls13"}}, v); }

cli_json id_ctrl_json(const identify_controller& id) {
  cli_json r;
  r["vid"] = id.vid.get();
  r["ssvid"] = id.ssvid.get();
  r["sn"] = raw_text(id.sn);
  r["mn"] = raw_text(id.mn);
  r["fr"] = raw_text(id.fr);
  r["rab"] = id.rab;
  r["ieee"] = ieee_value(id);
  r["cmic"] = id.cmic;
  r["mdts"] = id.mdts;
  r["cntlid"] = id.cntlid.get();
  r["ver"] = id.ver.get();
  r["rtd3r"] = id.rtd3r.get();
  r["rtd3e"] = id.rtd3e.get();
  r["oaes"] = id.oaes.get();
  r["ctratt"] = id.ctratt.get();
  r["rrls"] = id.rrls.get();
  r["cntrltype"] = id.cntrltype;
  r["fguid"] = uuid_text(id.fguid);
  r["crdt1"] = id.crdt1.get();
  r["crdt2"] = id.crdt2.get();
  r["crdt3"] = id.crdt3.get();
  r["nvmsr"] = id.nvmsr;
  r["vwci"] = id.vwci;
  r["mec"] = id.mec;
  r["oacs"] = id.oacs.get();
  r["acl"] = id.acl;
  r["aerl"] = id.aerl;
  r["frmw"] = id.frmw;
  r["lpa"] = id.lpa;
  r["elpe"] = id.elpe;
  r["npss"] = id.npss;
  r["avscc"] = id.avscc;
  r["apsta"] = id.apsta;
  r["wctemp"] = id.wctemp.get();
  r["cctemp"] = id.cctemp.get();
  r["mtfa"] = id.mtfa.get();
  r["hmpre"] = id.hmpre.get();
  r["hmmin"] = id.hmmin.get();
  r["tnvmcap"] = uint128_text(id.tnvmcap);
  r["unvmcap"] = uint128_text(id.unvmcap);
  r["rpmbs"] = id.rpmbs.get();
  r["edstt"] = id.edstt.get();
  r["dsto"] = id.dsto;
  r["fwug"] = id.fwug;
  r["kas"] = id.kas.get();
  r["hctma"] = id.hctma.get();
  r["mntmt"] = id.mntmt.get();
  r["mxtmt"] = id.mxtmt.get();
  r["sanicap"] = id.sanicap.get();
  r["hmminds"] = id.hmminds.get();
  r["hmmaxd"] = id.hmmaxd.get();
  r["nsetidmax"] = id.nsetidmax.get();
  r["endgidmax"] = id.endgidmax.get();
  r["anatt"] = id.anatt;
  r["anacap"] = id.anacap;
  r["anagrpmax"] = id.anagrpmax.get();
  r["nanagrpid"] = id.nanagrpid.get();
  r["pels"] = id.pels.get();
  r["domainid"] = id.domainid.get();
  r["megcap"] = uint128_text(id.megcap);
  r["sqes"] = id.sqes;
  r["cqes"] = id.cqes;
  r["maxcmd"] = id.maxcmd.get();
  r["nn"] = id.nn.get();
  r["oncs"] = id.oncs.get();
  r["fuses"] = id.fuses.get();
  r["fna"] = id.fna;
  r["vwc"] = id.vwc;
  r["awun"] = id.awun.get();
  r["awupf"] = id.awupf.get();
  r["icsvscc"] = id.icsvscc;
  r["nwpc"] = id.nwpc;
  r["acwu"] = id.acwu.get();
  r["ocfs"] = id.ocfs.get();
  r["sgls"] = id.sgls.get();
  r["mnan"] = id.mnan.get();
  r["maxdna"] = uint128_text(id.maxdna);
  r["maxcna"] = id.maxcna.get();
  std::string subnqn = raw_text(id.subnqn);
  if (!subnqn.empty()) r["subnqn"] = subnqn;
  r["ioccsz"] = id.ioccsz.get();
  r["iorcsz"] = id.iorcsz.get();
  r["icdoff"] = id.icdoff.get();
  r["fcatt"] = id.fcatt;
  r["msdbd"] = id.msdbd;
  r["ofcs"] = id.ofcs.get();
  cli_json psds = cli_json::array();
  for (unsigned i = 0; i <= std::min<unsigned>(id.npss, 31); ++i) {
    const auto& p = id.psd[i];
    cli_json d;
    d["max_power"] = p.mp.get();
    d["flags"] = p.flags;
    d["entry_lat"] = p.enlat.get();
    d["exit_lat"] = p.exlat.get();
    d["read_tput"] = p.rrt;
    d["read_lat"] = p.rrl;
    d["write_tput"] = p.rwt;
    d["write_lat"] = p.rwl;
    d["idle_power"] = p.idlp.get();
    d["idle_scale"] = power_scale(p.ips);
    d["active_power"] = p.actp.get();
    d["active_power_work"] = p.apw_aps & 0x7;
    d["active_scale"] = power_scale(p.apw_aps);
    psds.push_back(std::move(d));
  }
  r["psds"] = std::move(psds);
  return r;
}

cli_json id_ns_json(const identify_namespace& ns) {
  cli_json r;
  r["nsze"] = ns.nsze.get();
  r["ncap"] = ns.ncap.get();
  r["nuse"] = ns.nuse.get();
  r["nsfeat"] = ns.nsfeat;
  r["nlbaf"] = ns.nlbaf;
  r["flbas"] = ns.flbas;
  r["mc"] = ns.mc;
  r["dpc"] = ns.dpc;
  r["dps"] = ns.dps;
  r["nmic"] = ns.nmic;
  r["rescap"] = ns.rescap;
  r["fpi"] = ns.fpi;
  r["dlfeat"] = ns.dlfeat;
  r["nawun"] = ns.nawun.get();
  r["nawupf"] = ns.nawupf.get();
  r["nacwu"] = ns.nacwu.get();
  r["nabsn"] = ns.nabsn.get();
  r["nabo"] = ns.nabo.get();
  r["nabspf"] = ns.nabspf.get();
  r["noiob"] = ns.noiob.get();
  r["nvmcap"] = uint128_text(ns.nvmcap);
  r["nsattr"] = ns.nsattr;
  r["nvmsetid"] = ns.nvmsetid.get();
  if (ns.nsfeat & nsfeat_bits::optperf) {
    r["npwg"] = ns.npwg.get();
    r["npwa"] = ns.npwa.get();
    r["npdg"] = ns.npdg.get();
    r["npda"] = ns.npda.get();
    r["nows"] = ns.nows.get();
  }
  r["mssrl"] = ns.mssrl.get();
  r["mcl"] = ns.mcl.get();
  r["msrc"] = ns.msrc;
  r["nulbaf"] = nulbaf(ns);
  r["anagrpid"] = ns.anagrpid.get();
  r["endgid"] = ns.endgid.get();
  r["eui64"] = hex_bytes(ns.eui64);
  r["nguid"] = hex_bytes(ns.nguid);
  cli_json lbafs = cli_json::array();
  for (unsigned i = 0; i <= std::min<unsigned>(ns.nlbaf, 63); ++i) {
    cli_json f;
    f["ms"] = ns.lbaf[i].ms.get();
    f["ds"] = ns.lbaf[i].lbads;
    f["rp"] = ns.lbaf[i].rp;
    lbafs.push_back(std::move(f));
  }
  r["lbafs"] = std::move(lbafs);
  return r;
}

cli_json discovery_log_json(const discovery_log& log) {
  cli_json r;
  r["genctr"] = log.genctr;
  cli_json records = cli_json::array();
  for (const auto& e : log.entries) {
    cli_json x;
    x["trtype"] = nvmf_trtype_str(e.trtype);
    x["adrfam"] = nvmf_adrfam_str(e.adrfam);
    x["subtype"] = nvmf_subtype_str(e.subtype);
    x["treq"] = nvmf_treq_str(e.treq);
    x["portid"] = e.portid;
    x["trsvcid"] = e.trsvcid;
    x["subnqn"] = e.subnqn;
    x["traddr"] = e.traddr;
    x["eflags"] = nvmf_eflags_str(e.eflags);
    if (e.trtype == static_cast<uint8_t>(transport_type::tcp)) x["sectype"] = nvmf_sectype_str(e.sectype);
    records.push_back(std::move(x));
  }
  r["records"] = std::move(records);
  return r;
}

std::string to_nvme_cli_text(const cli_json& j) {
  std::string out;
  print_value(out, j, 0);
  return out;
}

std::string id_ctrl_text(const identify_controller& id) {
  std::string o = "NVME Identify Controller:\n";
  auto line = [&o](std::string_view name, const std::string& value) {
    o += fmt::format("{:<10}: {}\n", name, value);
  };
  auto dec = [](uint64_t v) { return std::to_string(v); };
  line("vid", hex_alt(id.vid.get()));
  line("ssvid", hex_alt(id.ssvid.get()));
  line("sn", raw_text(id.sn));
  line("mn", raw_text(id.mn));
  line("fr", raw_text(id.fr));
  line("rab", dec(id.rab));
  line("ieee", fmt::format("{:02x}{:02x}{:02x}", id.ieee[2], id.ieee[1], id.ieee[0]));
  line("cmic", hex_alt(id.cmic));
  line("mdts", dec(id.mdts));
  line("cntlid", hex_alt(id.cntlid.get()));
  line("ver", hex_alt(id.ver.get()));
  line("rtd3r", hex_alt(id.rtd3r.get()));
  line("rtd3e", hex_alt(id.rtd3e.get()));
  line("oaes", hex_alt(id.oaes.get()));
  line("ctratt", hex_alt(id.ctratt.get()));
  line("rrls", hex_alt(id.rrls.get()));
  line("cntrltype", dec(id.cntrltype));
  line("fguid", uuid_text(id.fguid));
  line("crdt1", dec(id.crdt1.get()));
  line("crdt2", dec(id.crdt2.get()));
  line("crdt3", dec(id.crdt3.get()));
  line("nvmsr", dec(id.nvmsr));
  line("vwci", dec(id.vwci));
  line("mec", dec(id.mec));
  line("oacs", hex_alt(id.oacs.get()));
  line("acl", dec(id.acl));
  line("aerl", dec(id.aerl));
  line("frmw", hex_alt(id.frmw));
  line("lpa", hex_alt(id.lpa));
  line("elpe", dec(id.elpe));
  line("npss", dec(id.npss));
  line("avscc", hex_alt(id.avscc));
  line("apsta", hex_alt(id.apsta));
  line("wctemp", dec(id.wctemp.get()));
  line("cctemp", dec(id.cctemp.get()));
  line("mtfa", dec(id.mtfa.get()));
  line("hmpre", dec(id.hmpre.get()));
  line("hmmin", dec(id.hmmin.get()));
  line("tnvmcap", uint128_text(id.tnvmcap));
  line("unvmcap", uint128_text(id.unvmcap));
  line("rpmbs", hex_alt(id.rpmbs.get()));
  line("edstt", dec(id.edstt.get()));
  line("dsto", dec(id.dsto));
  line("fwug", dec(id.fwug));
  line("kas", dec(id.kas.get()));
  line("hctma", hex_alt(id.hctma.get()));
  line("mntmt", dec(id.mntmt.get()));
  line("mxtmt", dec(id.mxtmt.get()));
  line("sanicap", hex_alt(id.sanicap.get()));
  line("hmminds", dec(id.hmminds.get()));
  line("hmmaxd", dec(id.hmmaxd.get()));
  line("nsetidmax", dec(id.nsetidmax.get()));
  line("endgidmax", dec(id.endgidmax.get()));
  line("anatt", dec(id.anatt));
  line("anacap", dec(id.anacap));
  line("anagrpmax", dec(id.anagrpmax.get()));
  line("nanagrpid", dec(id.nanagrpid.get()));
  line("pels", dec(id.pels.get()));
  line("domainid", dec(id.domainid.get()));
  line("megcap", uint128_text(id.megcap));
  line("sqes", hex_alt(id.sqes));
  line("cqes", hex_alt(id.cqes));
  line("maxcmd", dec(id.maxcmd.get()));
  line("nn", dec(id.nn.get()));
  line("oncs", hex_alt(id.oncs.get()));
  line("fuses", hex_alt(id.fuses.get()));
  line("fna", hex_alt(id.fna));
  line("vwc", hex_alt(id.vwc));
  line("awun", dec(id.awun.get()));
  line("awupf", dec(id.awupf.get()));
  line("icsvscc", dec(id.icsvscc));
  line("nwpc", dec(id.nwpc));
  line("acwu", dec(id.acwu.get()));
  line("ocfs", hex_alt(id.ocfs.get()));
  line("sgls", hex_alt(id.sgls.get()));
  line("mnan", dec(id.mnan.get()));
  line("maxdna", uint128_text(id.maxdna));
  line("maxcna", dec(id.maxcna.get()));
  line("subnqn", raw_text(id.subnqn));
  line("ioccsz", dec(id.ioccsz.get()));
  line("iorcsz", dec(id.iorcsz.get()));
  line("icdoff", dec(id.icdoff.get()));
  line("fcatt", hex_alt(id.fcatt));
  line("msdbd", dec(id.msdbd));
  line("ofcs", dec(id.ofcs.get()));
  auto power = [](uint16_t v, unsigned scale) -> std::string {
    switch (scale) {
      case 0: return "-";
      case 1: return fmt::format("{}.{:04}W", v / 10000, v % 10000);
      case 2: return fmt::format("{}.{:02}W", v / 100, v % 100);
      default: return "reserved";
    }
  };
  for (unsigned i = 0; i <= std::min<unsigned>(id.npss, 31); ++i) {
    const auto& p = id.psd[i];
    uint16_t mp = p.mp.get();
    std::string mps = (p.flags & 1) ? fmt::format("{}.{:04}W", mp / 10000, mp % 10000)
                                    : fmt::format("{}.{:02}W", mp / 100, mp % 100);
    std::string_view workload = (p.apw_aps & 7) == 0   ? "-"
                                : (p.apw_aps & 7) == 1 ? "1MiB 32 RW, 30s idle"
                                : (p.apw_aps & 7) == 2 ? "80K 128KiB SW"
                                                       : "reserved";
    o += fmt::format(
        "ps   {:4} : mp:{} {}operational enlat:{} exlat:{} rrt:{} rrl:{}\n"
        "            rwt:{} rwl:{} idle_power:{} active_power:{}\n"
        "            active_power_workload:{}\n",
        i, mps, (p.flags & 2) ? "non-" : "", p.enlat.get(), p.exlat.get(), p.rrt, p.rrl, p.rwt, p.rwl,
        power(p.idlp.get(), power_scale(p.ips)), power(p.actp.get(), power_scale(p.apw_aps)), workload);
  }
  return o;
}

std::string id_ns_text(const identify_namespace& ns, nsid_t nsid) {
  std::string o = fmt::format("NVME Identify Namespace {}:\n", nsid);
  auto line = [&o](std::string_view name, const std::string& value) {
    o += fmt::format("{:<8}: {}\n", name, value);
  };
  auto dec = [](uint64_t v) { return std::to_string(v); };
  line("nsze", hex_alt(ns.nsze.get()));
  line("ncap", hex_alt(ns.ncap.get()));
  line("nuse", hex_alt(ns.nuse.get()));
  line("nsfeat", hex_alt(ns.nsfeat));
  line("nlbaf", dec(ns.nlbaf));
  line("flbas", hex_alt(ns.flbas));
  line("mc", hex_alt(ns.mc));
  line("dpc", hex_alt(ns.dpc));
  line("dps", hex_alt(ns.dps));
  line("nmic", hex_alt(ns.nmic));
  line("rescap", hex_alt(ns.rescap));
  line("fpi", hex_alt(ns.fpi));
  line("dlfeat", dec(ns.dlfeat));
  line("nawun", dec(ns.nawun.get()));
  line("nawupf", dec(ns.nawupf.get()));
  line("nacwu", dec(ns.nacwu.get()));
  line("nabsn", dec(ns.nabsn.get()));
  line("nabo", dec(ns.nabo.get()));
  line("nabspf", dec(ns.nabspf.get()));
  line("noiob", dec(ns.noiob.get()));
  line("nvmcap", uint128_text(ns.nvmcap));
  if (ns.nsfeat & nsfeat_bits::optperf) {
    line("npwg", dec(ns.npwg.get()));
    line("npwa", dec(ns.npwa.get()));
    line("npdg", dec(ns.npdg.get()));
    line("npda", dec(ns.npda.get()));
    line("nows", dec(ns.nows.get()));
  }
  line("mssrl", dec(ns.mssrl.get()));
  line("mcl", dec(ns.mcl.get()));
  line("msrc", dec(ns.msrc));
  line("nulbaf", dec(nulbaf(ns)));
  line("anagrpid", dec(ns.anagrpid.get()));
  o += fmt::format("nsattr\t: {}\n", ns.nsattr);  // nvme-cli 2.3 prints a tab here
  line("nvmsetid", dec(ns.nvmsetid.get()));
  line("endgid", dec(ns.endgid.get()));
  line("nguid", hex_bytes(ns.nguid));
  line("eui64", hex_bytes(ns.eui64));
  unsigned in_use = ns.flbas_format_index();
  unsigned last = std::min<unsigned>(unsigned{ns.nlbaf} + nulbaf(ns), 63);
  for (unsigned i = 0; i <= last; ++i) {
    o += fmt::format("lbaf {:2} : ms:{:<3} lbads:{:<2} rp:{} {}\n", i, ns.lbaf[i].ms.get(), ns.lbaf[i].lbads,
                     hex_alt(ns.lbaf[i].rp), i == in_use ? "(in use)" : "");
  }
  return o;
}

std::string discovery_log_text(const discovery_log& log) {
  std::string o = fmt::format("\nDiscovery Log Number of Records {}, Generation counter {}\n", log.entries.size(),
                              log.genctr);
  for (size_t i = 0; i < log.entries.size(); ++i) {
    const auto& e = log.entries[i];
    o += fmt::format("=====Discovery Log Entry {}======\n", i);
    o += fmt::format("trtype:  {}\n", nvmf_trtype_str(e.trtype));
    o += fmt::format("adrfam:  {}\n", e.traddr.empty() ? std::string_view() : nvmf_adrfam_str(e.adrfam));
    o += fmt::format("subtype: {}\n", nvmf_subtype_str(e.subtype));
    o += fmt::format("treq:    {}\n", nvmf_treq_str(e.treq));
    o += fmt::format("portid:  {}\n", e.portid);
    o += fmt::format("trsvcid: {}\n", e.trsvcid);
    o += fmt::format("subnqn:  {}\n", e.subnqn);
    o += fmt::format("traddr:  {}\n", e.traddr);
    o += fmt::format("eflags:  {}\n", nvmf_eflags_str(e.eflags));
    if (e.trtype == static_cast<uint8_t>(transport_type::tcp))
      o += fmt::format("sectype: {}\n", nvmf_sectype_str(e.sectype));
  }
  return o;
}

}  // namespace nvmfd
