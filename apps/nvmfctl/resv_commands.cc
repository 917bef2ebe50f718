#include "resv_commands.h"

#include <charconv>
#include <map>

#include <fmt/format.h>

namespace nvmfd::ctl {

namespace {

// Option spellings of one command: short and long name -> the RPC param; flags take no value.
struct option_spec {
  const char* short_name;
  const char* long_name;
  const char* param;
  bool flag = false;
};

const std::map<std::string, std::vector<option_spec>>& commands() {
  static const std::map<std::string, std::vector<option_spec>> table = {
      {"resv-register",
       {{"-c", "--crkey", "crkey"}, {"-k", "--nrkey", "nrkey"}, {"-r", "--rrega", "rrega"},
        {"-p", "--cptpl", "cptpl"}, {"-i", "--iekey", "iekey", true}}},
      {"resv-acquire",
       {{"-c", "--crkey", "crkey"}, {"-p", "--prkey", "prkey"}, {"-t", "--rtype", "rtype"},
        {"-a", "--racqa", "racqa"}, {"-i", "--iekey", "iekey", true}}},
      {"resv-release",
       {{"-c", "--crkey", "crkey"}, {"-t", "--rtype", "rtype"}, {"-a", "--rrela", "rrela"},
        {"-i", "--iekey", "iekey", true}}},
      {"resv-report", {}},
  };
  return table;
}

result<uint64_t> number(const std::string& option, const std::string& text) {
  uint64_t v = 0;
  int base = 10;
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    base = 16;
    digits.remove_prefix(2);
  }
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    return error{errc::invalid_argument, fmt::format("{}: '{}' is not a number (decimal or 0x hex, 64 bits)", option, text)};
  return v;
}

}  // namespace

bool is_resv_command(const std::string& command) { return commands().count(command) != 0; }

result<resv_request> resv_params(const std::string& command, const std::vector<std::string>& args) {
  const auto& specs = commands().at(command);
  resv_request out;
  out.method = "bdev_nvme_resv_" + command.substr(5);
  out.params = nlohmann::json::object();
  bool report = command == "resv-report";
  if (report) out.params["eds"] = true;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto value = [&]() -> result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return error{errc::invalid_argument, fmt::format("{}: {} needs a value", command, a)};
      return args[++i];
    };
    if (!a.starts_with("-")) {
      if (out.params.contains("name"))
        return error{errc::invalid_argument, fmt::format("{}: one BDEV only ('{}' and '{}')", command,
                                                         out.params["name"].get<std::string>(), a)};
      out.params["name"] = a;
      continue;
    }
    if (a == "-n" || a == "--namespace-id") {
      auto v = value();
      if (!v) return v.take_err();
      auto n = number(a, *v);
      if (!n) return n.take_err();
      out.params["nsid"] = *n;
      continue;
    }
    if (report && (a == "-e" || a == "--eds")) continue;  // the default
    if (report && a == "--no-eds") {
      out.params["eds"] = false;
      continue;
    }
    if (report && (a == "-o" || a == "--output-format")) {
      auto v = value();
      if (!v) return v.take_err();
      if (*v != "json" && *v != "normal")
        return error{errc::invalid_argument, fmt::format("{}: -o takes normal or json, not '{}'", command, *v)};
      out.normal_output = *v == "normal";
      continue;
    }
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const option_spec& s) {
      return a == s.short_name || a == s.long_name;
    });
    if (spec == specs.end()) return error{errc::invalid_argument, fmt::format("{}: unknown argument {}", command, a)};
    if (spec->flag) {
      out.params[spec->param] = true;
      continue;
    }
    auto v = value();
    if (!v) return v.take_err();
    auto n = number(a, *v);
    if (!n) return n.take_err();
    out.params[spec->param] = *n;
  }
  if (!out.params.contains("name"))
    return error{errc::invalid_argument, fmt::format("{}: BDEV (an nvme bdev, e.g. Nvme0n1) is required", command)};
  if (command == "resv-acquire" && !out.params.contains("rtype"))
    return error{errc::invalid_argument, "resv-acquire: -t RTYPE (1..6) is required"};
  return out;
}

std::string resv_report_text(const nlohmann::json& r) {
  std::string s = "NVME Reservation status:\n\n";
  s += fmt::format("gen       : {}\nrtype     : {}\nregctl    : {}\nptpls     : {}\n", r.value("gen", 0u),
                   r.value("rtype", 0u), r.value("regctl", 0u), r.value("ptpls", 0u));
  bool ext = r.contains("regctlext");
  const auto& regs = ext ? r["regctlext"] : r.value("regctls", nlohmann::json::array());
  for (size_t i = 0; i < regs.size(); ++i) {
    const auto& e = regs[i];
    std::string hostid = e["hostid"].is_string() ? e["hostid"].get<std::string>()
                                                 : fmt::format("{:x}", e["hostid"].get<uint64_t>());
    s += fmt::format("\nregctl{}[{}] :\n  cntlid  : {:x}\n  rcsts   : {:x}\n  hostid  : {}\n  rkey    : {:x}\n",
                     ext ? "ext" : "", i, e.value("cntlid", 0u), e.value("rcsts", 0u), hostid,
                     e.value("rkey", uint64_t{0}));
  }
  return s;
}

}  // namespace nvmfd::ctl
