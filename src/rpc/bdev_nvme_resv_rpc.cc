#include "rpc/bdev_nvme_resv_rpc.h"

#include <fmt/format.h>

#include "host/nvme_bdev_passthru.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

// The bdev, and when the caller named an NSID (nvme-cli's -n), that it is the bdev's.
result<nvme_bdev*> find_nvme_bdev(nvme_controller_registry& controllers, const std::string& name,
                                  std::optional<uint64_t> nsid) {
  auto [entry, b] = controllers.find_bdev(name);
  if (!b) return error{errc::not_found, fmt::format("nvme bdev {} not found", name)};
  if (nsid && *nsid != b->nsid().value)
    return error{errc::invalid_argument, fmt::format("nsid: {} is namespace {}, not {}", name, b->nsid(), *nsid)};
  return b;
}

// RTYPE of an Acquire or Release (the reader has checked it is at most 6).
result<reservation_type> rtype_of(uint64_t v) {
  auto t = reservation_type_from(static_cast<uint8_t>(v));
  if (!t) return error{errc::invalid_argument, "rtype: expected 1..6"};
  return *t;
}

std::string hex(const std::array<uint8_t, 16>& id) {
  std::string s;
  for (uint8_t b : id) s += fmt::format("{:02x}", b);
  return s;
}

uint64_t host_id64(const std::array<uint8_t, 16>& id) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | id[i];
  return v;
}

// nvme-cli's JSON of a Reservation Report.
json report_json(const reservation_report& r) {
  json regs = json::array();
  for (auto& reg : r.registrants) {
    json e = {{"cntlid", reg.cntlid}, {"rcsts", reg.holds ? 1 : 0}, {"rkey", reg.rkey}};
    if (r.extended) e["hostid"] = hex(reg.hostid);
    else e["hostid"] = host_id64(reg.hostid);
    regs.push_back(std::move(e));
  }
  return {{"gen", r.generation},
          {"rtype", static_cast<unsigned>(r.rtype)},
          {"regctl", r.regctl},
          {"ptpls", r.ptpl ? 1 : 0},
          {r.extended ? "regctlext" : "regctls", std::move(regs)}};
}

}  // namespace

void add_bdev_nvme_resv_methods(const rpc_adder& add, nvme_controller_registry& controllers) {
  // The command goes to the bdev named by params, once they have all been read.
  auto on_bdev = [&controllers](param_reader& p, const std::string& name, std::optional<uint64_t> nsid,
                                const std::function<result<json>(const nvm_command_runner&, nsid_t)>& send)
      -> result<json> {
    if (auto f = p.finish(); !f) return f.take_err();
    auto b = find_nvme_bdev(controllers, name, nsid);
    if (!b) return b.take_err();
    return send(path_runner(**b), (*b)->nsid());
  };
  auto done = [](result<void> r) -> result<json> {
    if (!r) return r.take_err();
    return json(true);
  };

  add("bdev_nvme_resv_register", [on_bdev, done](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto nsid = p.optional_uint("nsid", UINT32_MAX);
    reservation_register_request r;
    r.action = static_cast<register_action>(p.optional_uint("rrega", 2).value_or(0));
    r.crkey = p.optional_uint("crkey").value_or(0);
    r.nrkey = p.optional_uint("nrkey").value_or(0);
    r.iekey = p.optional_bool("iekey").value_or(false);
    auto cptpl = p.optional_uint("cptpl", 3).value_or(0);
    if (cptpl == 1) return error{errc::invalid_argument, "cptpl: 1 is reserved (0 no change, 2 clear, 3 set)"};
    r.cptpl = static_cast<ptpl_change>(cptpl);
    return on_bdev(p, name, nsid, [&](const nvm_command_runner& run, nsid_t ns) {
      return done(reservation_register(run, ns, r));
    });
  });

  add("bdev_nvme_resv_acquire", [on_bdev, done](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto nsid = p.optional_uint("nsid", UINT32_MAX);
    reservation_acquire_request r;
    r.action = static_cast<acquire_action>(p.optional_uint("racqa", 2).value_or(0));
    auto rtype = rtype_of(p.required_uint("rtype", 6));
    r.crkey = p.optional_uint("crkey").value_or(0);
    r.prkey = p.optional_uint("prkey").value_or(0);
    r.iekey = p.optional_bool("iekey").value_or(false);
    if (!rtype) return rtype.take_err();
    r.rtype = *rtype;
    return on_bdev(p, name, nsid, [&](const nvm_command_runner& run, nsid_t ns) {
      return done(reservation_acquire(run, ns, r));
    });
  });

  add("bdev_nvme_resv_release", [on_bdev, done](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto nsid = p.optional_uint("nsid", UINT32_MAX);
    reservation_release_request r;
    r.action = static_cast<release_action>(p.optional_uint("rrela", 1).value_or(0));
    auto rtype = rtype_of(p.optional_uint("rtype", 6).value_or(1));
    r.crkey = p.optional_uint("crkey").value_or(0);
    r.iekey = p.optional_bool("iekey").value_or(false);
    if (!rtype) return rtype.take_err();
    r.rtype = *rtype;
    return on_bdev(p, name, nsid, [&](const nvm_command_runner& run, nsid_t ns) {
      return done(reservation_release(run, ns, r));
    });
  });

  add("bdev_nvme_resv_report", [on_bdev](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto nsid = p.optional_uint("nsid", UINT32_MAX);
    bool eds = p.optional_bool("eds").value_or(true);
    return on_bdev(p, name, nsid, [&](const nvm_command_runner& run, nsid_t ns) -> result<json> {
      auto r = reservation_report_of(run, ns, eds);
      if (!r) return r.take_err();
      return report_json(*r);
    });
  });
}

}  // namespace nvmfd
