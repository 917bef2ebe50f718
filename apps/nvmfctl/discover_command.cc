#include "discover_command.h"

#include <fstream>
#include <iostream>
#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "host/discovery_client.h"
#include "identify_json.h"
#include "host/dhchap_key_text.h"
#include "proto/nqn.h"

namespace nvmfd::ctl {

namespace {

std::string first_line_of(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t')) line.pop_back();
  return line;
}

int fail(const std::string& what, const std::string& msg) {
  std::cerr << "nvmfctl " << what << ": " << msg << "\n";
  return 1;
}

}  // namespace

void host_cli_options::add_to(CLI::App& app) {
  app.add_option("-q,--hostnqn", hostnqn, "host NQN (default: /etc/nvme/hostnqn, else a UUID-based NQN)");
  app.add_option("-I,--hostid", hostid, "host ID, a UUID (default: /etc/nvme/hostid, else random)");
  app.add_flag("-g,--hdr-digest", hdgst, "enable the PDU header digest");
  app.add_flag("-G,--data-digest", ddgst, "enable the PDU data digest");
  app.add_option("-S,--dhchap-secret", dhchap_secret, "DH-HMAC-CHAP secret of the host (DHHC-1:..:..:)");
  app.add_option("-C,--dhchap-ctrl-secret", dhchap_ctrl_secret,
                 "DH-HMAC-CHAP secret of the controller (bidirectional authentication)");
  app.add_option("-o,--output-format", output, "normal or json")
      ->check(CLI::IsMember({"normal", "json"}))
      ->capture_default_str();
}

result<controller_options> host_cli_options::controller_opts() const {
  controller_options o;
  o.hostnqn = hostnqn.empty() ? first_line_of("/etc/nvme/hostnqn") : hostnqn;
  if (!o.hostnqn.empty()) {
    if (auto v = validate_nqn(o.hostnqn); !v)
      return error{errc::invalid_argument, "host NQN '" + o.hostnqn + "': " + v.err().message};
  }
  std::string id = hostid.empty() ? first_line_of("/etc/nvme/hostid") : hostid;
  if (!id.empty()) {
    auto u = uuid::parse(id);
    if (!u) {
      if (!hostid.empty()) return error{errc::invalid_argument, "host ID '" + id + "' is not a UUID"};
    } else {
      o.hostid = *u;
    }
  }
  o.hdgst = hdgst;
  o.ddgst = ddgst;
  if (auto s = set_dhchap_secrets(o, dhchap_secret, dhchap_ctrl_secret); !s) return s.take_err();
  o.num_io_queues = 1;
  o.connect_timeout_ms = 10000;
  o.io_timeout_ms = 15000;
  return o;
}

void quiet_host_logging() {
  auto logger = spdlog::stderr_color_mt("nvmfctl");
  logger->set_level(spdlog::level::err);
  logger->set_pattern("nvmfctl: %l: %v");
  spdlog::set_default_logger(logger);
}

int discover_command(int argc, char** argv) {
  CLI::App app{"nvmfctl discover: read a discovery controller's log page (as `nvme discover`)", "nvmfctl discover"};
  std::string transport = "tcp", traddr, trsvcid = "8009", nqn(discovery_nqn);
  host_cli_options host;
  app.add_option("-t,--transport", transport, "transport type")->check(CLI::IsMember({"tcp", "rdma"}))->capture_default_str();
  app.add_option("-a,--traddr", traddr, "address of the discovery controller")->required();
  app.add_option("-s,--trsvcid", trsvcid, "port (TCP, or the RDMA CM port)")->capture_default_str();
  app.add_option("-n,--nqn", nqn, "discovery subsystem NQN")->capture_default_str();
  host.add_to(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  quiet_host_logging();
  auto opts = host.controller_opts();
  if (!opts) return fail("discover", opts.err().message);
  opts->kato_ms = 0;  // a one-shot discovery connection, as nvme-cli's non-persistent one

  transport_id trid;
  trid.trtype = transport;
  trid.adrfam = traddr.find(':') != std::string::npos ? "ipv6" : "ipv4";
  trid.traddr = traddr;
  trid.trsvcid = trsvcid;
  trid.subnqn = nqn;

  reactor_pool pool(1);
  auto ctrl = host_controller::connect(pool, trid, *opts);
  if (!ctrl)
    return fail("discover", "cannot connect to " + traddr + ":" + trsvcid + ": " + ctrl.err().message);
  if ((*ctrl)->identity().type() != controller_type::discovery && !is_discovery_nqn(nqn)) {
    (*ctrl)->disconnect();
    return fail("discover", nqn + " at " + traddr + ":" + trsvcid + " is not a discovery controller");
  }
  auto log = read_discovery_log(**ctrl);
  (*ctrl)->disconnect();
  if (!log) return fail("discover", "reading the discovery log from " + traddr + ":" + trsvcid + ": " +
                                        log.err().message);
  if (host.output == "json")
    std::cout << to_nvme_cli_text(discovery_log_json(*log)) << "\n";
  else
    std::cout << discovery_log_text(*log);
  return 0;
}

}  // namespace nvmfd::ctl
