#include "identify_command.h"

#include <iostream>

#include <CLI/CLI.hpp>

#include "discover_command.h"
#include "identify_json.h"

namespace nvmfd::ctl {

namespace {

int fail(const std::string& msg) {
  std::cerr << "nvmfctl identify: " << msg << "\n";
  return 1;
}

}  // namespace

int identify_command(int argc, char** argv) {
  CLI::App app{"nvmfctl identify: Identify Controller and Identify Namespace of a remote controller", "nvmfctl identify"};
  std::string trid_text, traddr, trsvcid = "4420", nqn;
  uint32_t nsid = 0;
  bool ctrl_only = false;
  host_cli_options host;
  app.add_option("-r,--trid", trid_text, "transport ID: 'trtype:tcp adrfam:ipv4 traddr:A trsvcid:P subnqn:NQN'");
  app.add_option("-a,--traddr", traddr, "controller address (instead of -r)");
  app.add_option("-s,--trsvcid", trsvcid, "TCP port (instead of -r)")->capture_default_str();
  app.add_option("-n,--nqn", nqn, "subsystem NQN (instead of -r)");
  auto* ns_opt = app.add_option("--ns,--namespace-id", nsid, "print only this namespace (as nvme id-ns)")
                     ->check(CLI::Range(1u, 0xfffffffeu));
  app.add_flag("-c,--ctrl", ctrl_only, "print only the controller (as nvme id-ctrl)")->excludes(ns_opt);
  host.add_to(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  quiet_host_logging();

  transport_id trid;
  if (!trid_text.empty()) {
    if (!traddr.empty() || !nqn.empty()) return fail("give either -r or -a/-s/-n, not both");
    auto t = transport_id::parse(trid_text);
    if (!t) return fail("bad transport ID: " + t.err().message);
    trid = *t;
  } else {
    if (traddr.empty()) return fail("no controller given: -r 'trtype:tcp traddr:... trsvcid:... subnqn:...'");
    trid.traddr = traddr;
    trid.trsvcid = trsvcid;
    trid.subnqn = nqn;
    trid.adrfam = traddr.find(':') != std::string::npos ? "ipv6" : "ipv4";
  }
  if (trid.subnqn.empty()) return fail("the transport ID lacks subnqn");
  auto opts = host.controller_opts();
  if (!opts) return fail(opts.err().message);

  reactor_pool pool(1);
  auto c = host_controller::connect(pool, trid, *opts);
  if (!c) return fail("cannot connect to " + trid.subnqn + " at " + trid.traddr + ":" + trid.trsvcid + ": " +
                      c.err().message);
  auto& ctrl = **c;
  const remote_namespace* only = nullptr;
  if (nsid) {
    for (const auto& ns : ctrl.namespaces())
      if (ns.nsid == nsid_t{nsid}) only = &ns;
    if (!only) {
      ctrl.disconnect();
      return fail("namespace " + std::to_string(nsid) + " is not an active namespace of " + trid.subnqn);
    }
  }
  bool json = host.output == "json";
  if (only) {
    std::cout << (json ? to_nvme_cli_text(id_ns_json(only->data)) + "\n" : id_ns_text(only->data, only->nsid));
  } else if (ctrl_only) {
    std::cout << (json ? to_nvme_cli_text(id_ctrl_json(ctrl.identity())) + "\n" : id_ctrl_text(ctrl.identity()));
  } else if (json) {
    cli_json all;
    all["id_ctrl"] = id_ctrl_json(ctrl.identity());
    all["namespaces"] = cli_json::array();
    for (const auto& ns : ctrl.namespaces())
      all["namespaces"].push_back(cli_json{{"nsid", ns.nsid.value}, {"id_ns", id_ns_json(ns.data)}});
    std::cout << to_nvme_cli_text(all) << "\n";
  } else {
    std::cout << id_ctrl_text(ctrl.identity());
    for (const auto& ns : ctrl.namespaces()) std::cout << "\n" << id_ns_text(ns.data, ns.nsid);
  }
  ctrl.disconnect();
  return 0;
}

}  // namespace nvmfd::ctl
