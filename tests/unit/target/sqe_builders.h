#pragma once
// SQE and Connect data builders for the handler unit tests, as a fabrics host fills them:
// PSDT 01b (SGLs only) and a Transport Data Block descriptor of the data length.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "base/uuid.h"
#include "proto/discovery_log.h"
#include "proto/fabrics.h"
#include "proto/nqn.h"
#include "proto/nvme_command.h"
#include "proto/wire.h"

namespace nvmfd::sqe {

inline nvme_sqe make(uint8_t opcode, uint32_t nsid = 0, uint32_t data_len = 0) {
  nvme_sqe s{};
  s.opcode = opcode;
  s.flags = 0x1 << 6;  // PSDT 01b
  s.nsid = nsid;
  s.sgl.sgl_identifier = sgl_id::transport_data_block;
  s.sgl.length = data_len;
  return s;
}

inline nvme_sqe admin(admin_opcode op, uint32_t nsid = 0, uint32_t data_len = 0) {
  return make(static_cast<uint8_t>(op), nsid, data_len);
}

inline nvme_sqe fabrics(fabrics_type t, uint32_t data_len = 0) {
  nvme_sqe s = make(static_cast<uint8_t>(admin_opcode::fabrics), 0, data_len);
  s.nsid.raw[0] = static_cast<uint8_t>(t);
  return s;
}

inline nvme_sqe identify(uint8_t cns, uint32_t nsid = 0, uint8_t csi = 0, uint32_t len = 4096) {
  nvme_sqe s = admin(admin_opcode::identify, nsid, len);
  s.cdw10 = cns;
  s.cdw11 = uint32_t{csi} << 24;
  return s;
}

// Get Log Page of len bytes (a multiple of 4) at offset; lsp, rae in CDW10.
inline nvme_sqe get_log_page(uint8_t lid, uint32_t len, uint64_t offset = 0, uint32_t nsid = 0, bool rae = false,
                             uint8_t lsp = 0) {
  nvme_sqe s = admin(admin_opcode::get_log_page, nsid, len);
  uint32_t numd = len / 4 - 1;
  s.cdw10 = lid | (uint32_t{lsp} << 8) | (rae ? 1u << 15 : 0u) | ((numd & 0xffff) << 16);
  s.cdw11 = numd >> 16;
  s.cdw12 = static_cast<uint32_t>(offset);
  s.cdw13 = static_cast<uint32_t>(offset >> 32);
  return s;
}

inline nvme_sqe get_features(uint8_t fid, uint8_t sel = 0, uint32_t data_len = 0) {
  nvme_sqe s = admin(admin_opcode::get_features, 0, data_len);
  s.cdw10 = fid | (uint32_t{sel} << 8);
  return s;
}

inline nvme_sqe set_features(uint8_t fid, uint32_t cdw11, bool save = false) {
  nvme_sqe s = admin(admin_opcode::set_features);
  s.cdw10 = fid | (save ? 1u << 31 : 0u);
  s.cdw11 = cdw11;
  return s;
}

inline nvme_sqe property_get(uint32_t offset, bool eight_bytes) {
  nvme_sqe s = fabrics(fabrics_type::property_get);
  s.cdw10 = eight_bytes ? 1 : 0;  // ATTRIB
  s.cdw11 = offset;
  return s;
}

inline nvme_sqe property_set(uint32_t offset, uint64_t value, bool eight_bytes = false) {
  nvme_sqe s = fabrics(fabrics_type::property_set);
  s.cdw10 = eight_bytes ? 1 : 0;
  s.cdw11 = offset;
  s.cdw12 = static_cast<uint32_t>(value);
  s.cdw13 = static_cast<uint32_t>(value >> 32);
  return s;
}

// Read, Write, Write Zeroes: nlb blocks at slba; data_len is the SGL length.
inline nvme_sqe rw(io_opcode op, uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t data_len) {
  nvme_sqe s = make(static_cast<uint8_t>(op), nsid, data_len);
  s.cdw10 = static_cast<uint32_t>(slba);
  s.cdw11 = static_cast<uint32_t>(slba >> 32);
  s.cdw12 = (nlb - 1) & 0xffff;
  return s;
}

// Connect: the command (in-capsule data block descriptor) and its 1024 bytes of data.
struct connect_request {
  nvme_sqe cmd;
  std::vector<std::byte> data;
};

// Built from the dwords of NVMe-oF 1.1 Figure 19, independently of the target's decoder:
// CDW10 RECFMT (15:0) and QID (31:16), CDW11 SQSIZE (15:0) and CATTR (23:16), CDW12 KATO.
inline constexpr const char* default_hostid = "4d8e8a3c-3f6f-4b7e-9a51-0c1a2b3c4d5e";
inline connect_request connect(std::string_view subnqn, std::string_view hostnqn, uint16_t qid, uint16_t sqsize,
                               uint16_t cntlid = cntlid_dynamic, uint32_t kato_ms = 0, uint8_t cattr = 0,
                               std::string_view hostid_text = default_hostid) {
  connect_request r;
  r.cmd = fabrics(fabrics_type::connect);
  r.cmd.sgl.sgl_identifier = sgl_id::data_block_offset;  // in-capsule data
  r.cmd.sgl.length = sizeof(connect_data);
  r.cmd.cdw10 = uint32_t{qid} << 16;
  r.cmd.cdw11 = sqsize | (uint32_t{cattr} << 16);
  r.cmd.cdw12 = kato_ms;
  connect_data d{};
  uuid hostid = *uuid::parse(hostid_text);
  std::memcpy(d.hostid, hostid.bytes.data(), sizeof(d.hostid));
  d.cntlid = cntlid;
  set_padded(d.subnqn, subnqn, '\0');
  set_padded(d.hostnqn, hostnqn, '\0');
  r.data.resize(sizeof(d));
  std::memcpy(r.data.data(), &d, sizeof(d));
  return r;
}

}  // namespace nvmfd::sqe
