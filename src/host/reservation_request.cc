#include "host/reservation_request.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "proto/wire.h"

namespace nvmfd {

namespace {

nvm_command with_data(io_opcode op, nsid_t nsid, uint32_t cdw10, std::span<const std::byte> data) {
  nvm_command c;
  c.cmd.opcode = static_cast<uint8_t>(op);
  c.cmd.nsid = nsid.value;
  c.cmd.cdw10 = cdw10;
  c.data.assign(data.begin(), data.end());
  c.host_to_controller = true;
  return c;
}

le64 key(uint64_t v) {
  le64 k;
  k = v;
  return k;
}

const char* status_name(const nvme_status& s) {
  if (s.sct == status_type::generic) switch (s.sc) {
      case sc_generic::reservation_conflict: return "Reservation Conflict";
      case sc_generic::invalid_field: return "Invalid Field in Command";
      case sc_generic::invalid_opcode: return "Invalid Command Opcode (reservations not supported?)";
      case sc_generic::invalid_namespace_or_format: return "Invalid Namespace or Format";
      case sc_generic::host_identifier_inconsistent_format: return "Host Identifier Inconsistent Format";
      case sc_generic::internal_error: return "Internal Error";
      case sc_generic::namespace_not_ready: return "Namespace Not Ready";
    }
  if (s.sct == status_type::path_related) return "a path error";
  return "failed";
}

// One command whose completion is all that matters.
result<void> run_checked(const nvm_command_runner& run, const nvm_command& c, const char* what) {
  auto r = run(c);
  if (!r) return r.take_err();
  if (!r->completion.status.ok()) return reservation_status_error(what, r->completion.status);
  return success();
}

constexpr size_t header_bytes(bool eds) {
  return eds ? reservation_status_extended_header_size : sizeof(reservation_status_header);
}
constexpr size_t entry_bytes(bool eds) {
  return eds ? sizeof(registered_controller_extended) : sizeof(registered_controller);
}

}  // namespace

nvm_command make_reservation_register(nsid_t nsid, const reservation_register_request& r) {
  reservation_register_data d{key(r.crkey), key(r.nrkey)};
  return with_data(io_opcode::reservation_register, nsid,
                   encode_reservation_register({static_cast<uint8_t>(r.action), r.iekey, r.cptpl}), wire_bytes(d));
}

nvm_command make_reservation_acquire(nsid_t nsid, const reservation_acquire_request& r) {
  reservation_acquire_data d{key(r.crkey), key(r.prkey)};
  return with_data(io_opcode::reservation_acquire, nsid,
                   encode_reservation_acquire({static_cast<uint8_t>(r.action), r.iekey, static_cast<uint8_t>(r.rtype)}),
                   wire_bytes(d));
}

nvm_command make_reservation_release(nsid_t nsid, const reservation_release_request& r) {
  reservation_release_data d{key(r.crkey)};
  return with_data(io_opcode::reservation_release, nsid,
                   encode_reservation_release({static_cast<uint8_t>(r.action), r.iekey, static_cast<uint8_t>(r.rtype)}),
                   wire_bytes(d));
}

nvm_command make_reservation_report(nsid_t nsid, bool eds, uint32_t bytes) {
  nvm_command c;
  c.cmd.opcode = static_cast<uint8_t>(io_opcode::reservation_report);
  c.cmd.nsid = nsid.value;
  c.cmd.cdw10 = bytes / 4 - 1;  // NUMD, zero-based
  c.cmd.cdw11 = eds ? 1u : 0u;
  c.data.resize(bytes);
  return c;
}

result<reservation_report> parse_reservation_report(std::span<const std::byte> data, bool eds) {
  auto hdr = decode_wire<reservation_status_header>(data);
  if (!hdr || data.size() < header_bytes(eds))
    return error{errc::io_error, fmt::format("Reservation Report: {} bytes do not hold its header", data.size())};
  reservation_report out;
  out.generation = hdr->gen.get();
  out.rtype = static_cast<reservation_type>(hdr->rtype);
  out.ptpl = (hdr->ptpls & 1) != 0;
  out.extended = eds;
  out.regctl = hdr->regctl.get();
  for (size_t i = 0; i < out.regctl; ++i) {
    size_t off = header_bytes(eds) + i * entry_bytes(eds);
    if (off + entry_bytes(eds) > data.size()) break;
    reported_registrant reg;
    if (eds) {
      auto e = load_wire<registered_controller_extended>(data.data() + off);
      reg.cntlid = e.cntlid.get();
      reg.holds = (e.rcsts & 1) != 0;
      std::memcpy(reg.hostid.data(), e.hostid, 16);
      reg.rkey = e.rkey.get();
    } else {
      auto e = load_wire<registered_controller>(data.data() + off);
      reg.cntlid = e.cntlid.get();
      reg.holds = (e.rcsts & 1) != 0;
      std::memcpy(reg.hostid.data(), &e.hostid, 8);
      reg.rkey = e.rkey.get();
    }
    out.registrants.push_back(reg);
  }
  return out;
}

error reservation_status_error(const char* what, const nvme_status& s) {
  int e = s.sct == status_type::generic && s.sc == sc_generic::reservation_conflict ? EACCES : EIO;
  return error{errc::io_error,
               fmt::format("{}: {} (NVMe status SCT {:#x} SC {:#x})", what, status_name(s), static_cast<unsigned>(s.sct), s.sc),
               e};
}

result<void> reservation_register(const nvm_command_runner& run, nsid_t nsid, const reservation_register_request& r) {
  return run_checked(run, make_reservation_register(nsid, r), "Reservation Register");
}

result<void> reservation_acquire(const nvm_command_runner& run, nsid_t nsid, const reservation_acquire_request& r) {
  return run_checked(run, make_reservation_acquire(nsid, r), "Reservation Acquire");
}

result<void> reservation_release(const nvm_command_runner& run, nsid_t nsid, const reservation_release_request& r) {
  return run_checked(run, make_reservation_release(nsid, r), "Reservation Release");
}

result<reservation_report> reservation_report_of(const nvm_command_runner& run, nsid_t nsid, bool eds) {
  uint32_t bytes = 4096;
  for (int attempt = 1;; ++attempt) {
    auto r = run(make_reservation_report(nsid, eds, bytes));
    if (!r) return r.take_err();
    if (!r->completion.status.ok()) return reservation_status_error("Reservation Report", r->completion.status);
    auto rep = parse_reservation_report(r->data, eds);
    // More registrants than fitted: read again, larger (they may keep coming: three reads,
    // then what the last one held).
    if (!rep || rep->registrants.size() == rep->regctl || attempt == 3) return rep;
    bytes = static_cast<uint32_t>((header_bytes(eds) + size_t{rep->regctl} * entry_bytes(eds) + 4095) / 4096 * 4096);
  }
}

}  // namespace nvmfd
