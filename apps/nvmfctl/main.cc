// nvmfctl: command-line client of nvmfd's JSON-RPC socket, in the manner of SPDK's rpc.py.
// See usage_text below for the forms. Exit status: 0 on success; 1 on a JSON-RPC error
// (printed to stderr), a usage error or a connection failure.
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_params.h"
#include "config_commands.h"
#include "disconnect_command.h"
#include "discover_command.h"
#include "identify_command.h"
#include "iostat_command.h"
#include "key_commands.h"
#include "migrate_command.h"
#include "resv_commands.h"
#include "rpc_client.h"

namespace {

using nvmfd::ctl::json;

constexpr const char* default_socket = "/var/tmp/nvmfd.sock";
constexpr const char* service_socket = "/run/nvmfd/nvmfd.sock";  // packaging/nvmfd.service

constexpr const char* usage_text = R"(
Forms:
  nvmfctl [-s SOCKET] [-t TIMEOUT] METHOD [--name value ...]
  nvmfctl [-s SOCKET] [-t TIMEOUT] call METHOD ['{"name": value, ...}']
  nvmfctl [-s SOCKET] save_config [-o FILE] [-i INDENT] [-s SUBSYSTEM,...]
  nvmfctl [-s SOCKET] load_config [-j FILE | -i FILE | FILE | -]   (default: stdin)
  nvmfctl [-s SOCKET] migrate-config IN OUT   an SPDK save_config file IN as an nvmfd config OUT;
      reports the calls kept (the running nvmfd has them), ignored (SPDK tuning) and refused
      (exit status 1; OUT is written without them). docs/spdk-migration.md
  nvmfctl discover -t tcp -a ADDR [-s PORT] [-q HOSTNQN] [-o normal|json]   (a host: no nvmfd needed)
  nvmfctl identify -r 'trtype:tcp traddr:A trsvcid:P subnqn:NQN' [-o normal|json] [--ns NSID | --ctrl]
                  [-q HOSTNQN] [-S DHCHAP_SECRET [-C DHCHAP_CTRL_SECRET]]   (discover takes -S/-C too)
  nvmfctl [-s SOCKET] disconnect -n NQN [-a ADDR] [-s PORT] [--owner NAME] [--force]   (-p PORT too)
  nvmfctl [-s SOCKET] disconnect --all --force [--owner NAME]
  nvmfctl [-s SOCKET] resv-register BDEV [-n NSID] [-c CRKEY] [-k NRKEY] [-r RREGA] [-p CPTPL] [-i]
  nvmfctl [-s SOCKET] resv-acquire BDEV [-n NSID] [-c CRKEY] [-p PRKEY] -t RTYPE [-a RACQA] [-i]
  nvmfctl [-s SOCKET] resv-release BDEV [-n NSID] [-c CRKEY] [-t RTYPE] [-a RRELA] [-i]
  nvmfctl [-s SOCKET] resv-report BDEV [-n NSID] [--no-eds] [-o normal|json]
      NVMe reservations on an nvme bdev of nvmfd's host side (nvme-cli's options; 0x hex ok)
  nvmfctl [-s SOCKET] iostat [-i SECONDS] [-c COUNT] [-b BDEV]...
      a live per-bdev table (IOPS, r/s, w/s, MiB/s, average latency) from bdev_get_iostat
  nvmfctl gen-dhchap-key [-m 0..3] [-l 32|48|64] [-n NQN] [-s HEX] [-o FILE]   (no nvmfd needed)
  nvmfctl gen-tls-key [-m 1|2] [-s HEX] [-o FILE]      nvme-cli's key generators; -o: mode 0600
  nvmfctl check-key KEY | check-key -f FILE            validates DHHC-1 / NVMeTLSkey-1 keys
      nvmfd's host connections to NQN made by OWNER (default: bdev_nvme_attach_controller's,
      "rpc"; a discovery service's are "discovery:NAME"); --force: any owner's

METHOD parameters, --name value:
  true / false          boolean
  0, 42, -1             integer (with a leading zero, as 007, it stays a string)
  {...} / [...]         JSON object / array
  '"42"'                a JSON string: passes 42 as a string
  anything else         string
  --name=value          as --name value
  --flag                followed by another --option or nothing: true
  --a.b value           nested: {"a": {"b": value}}
  --listen-address.traddr is --listen_address.traddr ('-' in names becomes '_')

Output: the result as JSON (indent 2); a string result is printed bare, as rpc.py does.
Errors go to stderr with exit status 1.

Examples:
  nvmfctl bdev_malloc_create --name Malloc0 --num_blocks 131072 --block_size 512
  nvmfctl nvmf_create_subsystem --nqn nqn.2016-06.io.spdk:cnode1 --allow_any_host
  nvmfctl nvmf_subsystem_add_listener --nqn nqn.2016-06.io.spdk:cnode1 \
      --listen_address.trtype tcp --listen_address.traddr 127.0.0.1 \
      --listen_address.trsvcid 4420
  nvmfctl call bdev_get_bdevs '{"name": "Malloc0"}'
  nvmfctl save_config -o nvmfd.json && nvmfctl load_config -j nvmfd.json
)";

int usage_error(const std::string& msg) {
  std::cerr << "nvmfctl: " << msg << "\n(nvmfctl -h for usage)\n";
  return 1;
}

void print_result(const json& r) {
  if (r.is_string()) {
    std::cout << r.get<std::string>() << "\n";
  } else {
    std::cout << r.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "discover") return nvmfd::ctl::discover_command(argc - 1, argv + 1);
  if (argc >= 2 && std::string(argv[1]) == "identify") return nvmfd::ctl::identify_command(argc - 1, argv + 1);
  if (argc >= 2 && std::string(argv[1]) == "gen-dhchap-key") return nvmfd::ctl::gen_dhchap_key_command(argc - 1, argv + 1);
  if (argc >= 2 && std::string(argv[1]) == "gen-tls-key") return nvmfd::ctl::gen_tls_key_command(argc - 1, argv + 1);
  if (argc >= 2 && std::string(argv[1]) == "check-key") return nvmfd::ctl::check_key_command(argc - 1, argv + 1);
  CLI::App app{"nvmfctl: call nvmfd's JSON-RPC methods (SPDK rpc.py method and parameter names)",
               "nvmfctl"};
  std::string socket = default_socket;
  double timeout_s = 60.0;
  bool dry_run = false;
  auto* server_opt = app.add_option("-s,--server", socket,
                                    "nvmfd's RPC socket (default: /var/tmp/nvmfd.sock, or the service's "
                                    "/run/nvmfd/nvmfd.sock when only that one exists)");
  app.add_option("-t,--timeout", timeout_s, "seconds to wait for each reply")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--dry-run", dry_run, "print the request instead of sending it");
  app.prefix_command();
  app.footer(usage_text);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (server_opt->count() == 0) socket = nvmfd::ctl::default_rpc_socket(default_socket, service_socket);
  std::vector<std::string> rest = app.remaining();
  if (rest.empty()) return usage_error("no METHOD given");
  std::string method = rest.front();
  std::vector<std::string> args(rest.begin() + 1, rest.end());
  if (method == "-h" || method == "--help" || (!args.empty() && (args[0] == "-h" || args[0] == "--help"))) {
    std::cout << app.help();
    return 0;
  }

  json params;
  bool resv_report_text = false;
  if (method == "call") {
    if (args.empty() || args.size() > 2) return usage_error("usage: call METHOD ['{json}']");
    method = args[0];
    if (args.size() == 2) {
      try {
        params = json::parse(args[1]);
      } catch (const json::exception& e) {
        return usage_error(std::string("bad JSON params: ") + e.what());
      }
      if (!params.is_object() && !params.is_array() && !params.is_null()) {
        return usage_error("params must be a JSON object or array");
      }
    }
  } else if (method == "disconnect") {
    auto p = nvmfd::ctl::disconnect_params(args);
    if (!p) return usage_error(p.err().message);
    params = std::move(*p);
    method = "bdev_nvme_disconnect";
  } else if (nvmfd::ctl::is_resv_command(method)) {
    auto r = nvmfd::ctl::resv_params(method, args);
    if (!r) return usage_error(r.err().message);
    params = std::move(r->params);
    method = r->method;
    resv_report_text = r->normal_output;
  } else if (method != "save_config" && method != "load_config" && method != "iostat" && method != "migrate-config") {
    auto p = nvmfd::ctl::params_from_args(args);
    if (!p) return usage_error(p.err().message);
    params = std::move(*p);
  }

  if (dry_run) {
    json req = {{"jsonrpc", "2.0"}, {"method", method}, {"id", 1}};
    if (!params.is_null() && !(params.is_object() && params.empty())) req["params"] = params;
    std::cout << req.dump(2) << "\n";
    return 0;
  }

  auto client = nvmfd::ctl::rpc_client::connect(socket, timeout_s);
  if (!client) {
    std::cerr << "nvmfctl: " << client.err().message << "\n";
    return 1;
  }
  if (method == "save_config") return nvmfd::ctl::save_config_command(*client, args);
  if (method == "load_config") return nvmfd::ctl::load_config_command(*client, args);
  if (method == "iostat") return nvmfd::ctl::iostat_command(*client, args);
  if (method == "migrate-config") return nvmfd::ctl::migrate_config_command(*client, args);

  auto r = client->call(method, params);
  if (!r) {
    std::cerr << "nvmfctl: " << method << ": " << r.err().message << "\n";
    return 1;
  }
  if (!r->ok()) {
    nvmfd::ctl::print_rpc_error(method, r->error);
    return 1;
  }
  if (resv_report_text) {
    std::cout << nvmfd::ctl::resv_report_text(r->result);
    return 0;
  }
  print_result(r->result);
  return 0;
}
