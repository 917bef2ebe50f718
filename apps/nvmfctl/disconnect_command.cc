#include "disconnect_command.h"

namespace nvmfd::ctl {

result<nlohmann::json> disconnect_params(const std::vector<std::string>& args) {
  nlohmann::json p = nlohmann::json::object();
  bool all = false, force = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* key) -> result<void> {
      if (i + 1 >= args.size()) return error{errc::invalid_argument, a + " needs a value"};
      p[key] = args[++i];
      return success();
    };
    result<void> r = success();
    if (a == "-n" || a == "--nqn") r = value("subnqn");
    else if (a == "-a" || a == "--traddr") r = value("traddr");
    else if (a == "-s" || a == "-p" || a == "--trsvcid" || a == "--port") r = value("trsvcid");  // -s as nvme-cli
    else if (a == "--owner") r = value("owner");
    else if (a == "--all") all = true;
    else if (a == "--force") force = true;
    else return error{errc::invalid_argument, "disconnect: unknown argument " + a};
    if (!r) return r.take_err();
  }
  if (all && !force)
    return error{errc::invalid_argument, "disconnect --all removes every subsystem's connections: add --force"};
  if (all && p.contains("subnqn")) return error{errc::invalid_argument, "disconnect: -n and --all exclude each other"};
  if (!all && !p.contains("subnqn")) return error{errc::invalid_argument, "disconnect: -n NQN (or --all --force) is required"};
  if (force) p["force"] = true;
  return p;
}

}  // namespace nvmfd::ctl
