#include "proto/nvme_rdma.h"

#include <cstring>

namespace nvmfd {

const char* to_string(rdma_cm_reject_status s) {
  switch (s) {
    case rdma_cm_reject_status::invalid_length: return "invalid private data length";
    case rdma_cm_reject_status::invalid_recfmt: return "invalid RECFMT";
    case rdma_cm_reject_status::invalid_qid: return "invalid QID";
    case rdma_cm_reject_status::invalid_hsqsize: return "invalid HSQSIZE";
    case rdma_cm_reject_status::invalid_hrqsize: return "invalid HRQSIZE";
    case rdma_cm_reject_status::no_resources: return "no resources";
    case rdma_cm_reject_status::invalid_ird: return "invalid IRD";
    case rdma_cm_reject_status::invalid_ord: return "invalid ORD";
    case rdma_cm_reject_status::invalid_cntlid: return "invalid CNTLID";
  }
  return "unknown reject status";
}

keyed_sgl decode_keyed_sgl(const sgl_descriptor& d) {
  uint8_t raw[16];
  std::memcpy(raw, &d, sizeof(raw));
  keyed_sgl k;
  k.address = d.address.get();
  k.length = uint32_t{raw[8]} | uint32_t{raw[9]} << 8 | uint32_t{raw[10]} << 16;
  k.key = uint32_t{raw[11]} | uint32_t{raw[12]} << 8 | uint32_t{raw[13]} << 16 | uint32_t{raw[14]} << 24;
  k.invalidate = d.sgl_identifier == sgl_id::keyed_data_block_invalidate;
  return k;
}

void encode_keyed_sgl(sgl_descriptor& d, const keyed_sgl& k) {
  uint8_t raw[16];
  for (int i = 0; i < 8; ++i) raw[i] = static_cast<uint8_t>(k.address >> (8 * i));
  for (int i = 0; i < 3; ++i) raw[8 + i] = static_cast<uint8_t>(k.length >> (8 * i));
  for (int i = 0; i < 4; ++i) raw[11 + i] = static_cast<uint8_t>(k.key >> (8 * i));
  raw[15] = k.invalidate ? sgl_id::keyed_data_block_invalidate : sgl_id::keyed_data_block;
  std::memcpy(&d, raw, sizeof(raw));
}

}  // namespace nvmfd
