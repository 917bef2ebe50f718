#pragma once
// nvmfctl discover and the host-side options it shares with nvmfctl identify. These
// commands are an NVMe/TCP host, as nvme-cli is: they talk to the controller over the
// network and need no nvmfd running.
#include <string>

#include <CLI/CLI.hpp>

#include "host/host_controller.h"

namespace nvmfd::ctl {

// Host identity and transport options common to the host commands: -q/--hostnqn,
// -I/--hostid, -g/--hdr-digest, -G/--data-digest, -S/--dhchap-secret and
// -C/--dhchap-ctrl-secret (DHHC-1 secrets, as nvme connect takes them: DH-HMAC-CHAP when
// the controller asks, bidirectional with the controller's). As nvme-cli does, a missing
// host NQN or host ID is read from /etc/nvme/hostnqn and /etc/nvme/hostid when they exist.
struct host_cli_options {
  std::string hostnqn;
  std::string hostid;
  bool hdgst = false;
  bool ddgst = false;
  std::string dhchap_secret;
  std::string dhchap_ctrl_secret;
  std::string output = "normal";

  void add_to(CLI::App& app);
  // The controller options, or an invalid_argument error naming a bad host ID or secret.
  result<controller_options> controller_opts() const;
};

// Sends the library's log messages to stderr, errors only: stdout carries only the
// command's output and a failure is the command's own one-line message.
void quiet_host_logging();

// nvmfctl discover -t tcp -a ADDR [-s PORT] [-n DISCOVERY_NQN] [-q HOSTNQN] [-o normal|json]:
// prints the discovery log as `nvme discover` does (default port 8009, as nvme-cli's for
// a TCP discovery controller). argv[0] is "discover". Exit status 0, or 1 with a one-line
// message on stderr (cannot connect, refused, not a discovery controller, bad log).
int discover_command(int argc, char** argv);

}  // namespace nvmfd::ctl
