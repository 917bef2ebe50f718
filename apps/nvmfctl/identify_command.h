#pragma once
// nvmfctl identify: connect to an NVMe/TCP controller as a host and print its Identify
// Controller data and each active namespace's Identify Namespace data, in nvme-cli's
// formats (`nvme id-ctrl` / `nvme id-ns`, normal or -o json). Needs no nvmfd running.
namespace nvmfd::ctl {

// nvmfctl identify -r 'trtype:tcp adrfam:ipv4 traddr:A trsvcid:P subnqn:NQN'
//                  [-o normal|json] [--ns NSID | --ctrl] [-q HOSTNQN] [-g] [-G]
// (or -a A -s P -n NQN instead of -r). argv[0] is "identify".
//   default: the controller, then every active namespace. JSON:
//            {"id_ctrl": <nvme id-ctrl -o json>, "namespaces": [{"nsid": N, "id_ns": <nvme id-ns -o json>}]}
//   --ctrl:  the controller only, exactly as `nvme id-ctrl [-o json]`
//   --ns N:  namespace N only, exactly as `nvme id-ns [-o json]`
// Exit status 0, or 1 with a one-line message on stderr (cannot connect, host refused,
// unknown subsystem, inactive namespace, bad transport ID).
int identify_command(int argc, char** argv);

}  // namespace nvmfd::ctl
