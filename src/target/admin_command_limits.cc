#include "target/admin_command_limits.h"

#include "proto/identify.h"
#include "proto/fabrics.h"
#include "target/controller.h"
#include "target/target_queue.h"

namespace nvmfd {

namespace {

// Get/Set Features data: a Host Identifier (16 bytes) is the largest we use; a 4 KiB page
// leaves room for any feature a host may name.
constexpr uint32_t feature_data_limit = 4096;
// DH-HMAC-CHAP messages: the largest (a DH value of FFDHE 8192, 1024 bytes, plus the
// challenge) fits in 8 KiB with room to spare.
constexpr uint32_t authentication_data_limit = 8192;

}  // namespace

std::optional<uint32_t> admin_data_limit(const target_queue& q, uint8_t opc) {
  bool discovery = q.ctrl() && q.ctrl()->is_discovery();
  switch (static_cast<admin_opcode>(opc)) {
    case admin_opcode::identify: return identify_data_size;
    case admin_opcode::get_log_page: return q.limits().max_io_size;
    case admin_opcode::get_features:
    case admin_opcode::set_features: return feature_data_limit;
    case admin_opcode::keep_alive:
    case admin_opcode::async_event_request: return 0;
    case admin_opcode::abort:
      if (discovery) return std::nullopt;  // NVMe-oF 1.1 Figure 31: not a discovery command
      return 0;
    default: return std::nullopt;
  }
}

std::optional<uint32_t> fabrics_data_limit(const target_queue&, uint8_t fctype) {
  switch (static_cast<fabrics_type>(fctype)) {
    case fabrics_type::connect: return sizeof(connect_data);
    case fabrics_type::property_get:
    case fabrics_type::property_set:
    case fabrics_type::disconnect: return 0;
    case fabrics_type::authentication_send:
    case fabrics_type::authentication_receive: return authentication_data_limit;
    default: return std::nullopt;
  }
}

nvme_status check_admin_data(const target_queue& q, const target_request& req) {
  const auto& cmd = req.cmd;
  bool fabrics = cmd.opcode == static_cast<uint8_t>(admin_opcode::fabrics);
  auto limit = fabrics ? fabrics_data_limit(q, cmd.fctype()) : admin_data_limit(q, cmd.opcode);
  if (!limit) return nvme_status::generic(sc_generic::invalid_opcode);
  // Opcode (FCTYPE) bits 1:0 give the direction; a command without data ignores its SGL.
  bool moves_data = ((fabrics ? cmd.fctype() : cmd.opcode) & 0x3) != 0;
  if (moves_data && cmd.sgl.length.get() > *limit) return nvme_status::generic(sc_generic::data_sgl_length_invalid);
  return nvme_status::success();
}

}  // namespace nvmfd
