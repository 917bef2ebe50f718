#pragma once
// NVMe/RDMA wire formats (NVMe over Fabrics 1.1, 7.3 "RDMA Transport"): the private data
// of the RDMA CM connect request, accept and reject, the keyed SGL data block descriptor
// that names a host buffer (address, 24-bit length, 32-bit remote key), and the RDMA
// transport specific address subtype of a discovery log entry (TSAS).
// Pure data and functions; callable from any core.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/le.h"
#include "proto/nvme_command.h"

namespace nvmfd {

// RECFMT: the only record format.
inline constexpr uint16_t rdma_cm_recfmt_1_0 = 0;

// RDMA_CM_REQUEST private data (32 bytes): the host names the queue it opens.
struct rdma_cm_request {
  le16 recfmt;
  le16 qid;       // 0: admin queue
  le16 hrqsize;   // host receive queue size: responses the host can take (1's based)
  le16 hsqsize;   // host send queue size, 0's based (the SQSIZE the Connect will carry)
  le16 cntlid;    // I/O queues: the controller; 0xffff on the admin queue
  uint8_t reserved[22];
};
static_assert(sizeof(rdma_cm_request) == 32);

// RDMA_CM_ACCEPT private data (32 bytes).
struct rdma_cm_accept {
  le16 recfmt;
  le16 crqsize;   // controller receive queue size: command capsules it has room for
  uint8_t reserved[28];
};
static_assert(sizeof(rdma_cm_accept) == 32);

// RDMA_CM_REJECT private data (4 bytes) and its status codes (NVMe-oF 1.1 Figure 52).
enum class rdma_cm_reject_status : uint16_t {
  invalid_length = 0x01,        // private data shorter than a request
  invalid_recfmt = 0x02,
  invalid_qid = 0x03,
  invalid_hsqsize = 0x04,
  invalid_hrqsize = 0x05,
  no_resources = 0x06,
  invalid_ird = 0x07,
  invalid_ord = 0x08,
  invalid_cntlid = 0x09,
};
struct rdma_cm_reject {
  le16 recfmt;
  le16 sts;
};
static_assert(sizeof(rdma_cm_reject) == 4);

const char* to_string(rdma_cm_reject_status s);

// SGL identifiers of the keyed data block descriptor (type 4): subtype 0 addresses a host
// buffer; subtype Fh also asks the controller to invalidate the key with its response.
namespace sgl_id {
inline constexpr uint8_t keyed_data_block_invalidate = 0x4f;
}  // namespace sgl_id

// A keyed SGL data block descriptor, decoded: the 16 bytes of the SQE's SGL field are
// address (8), length (3), key (4), identifier (1).
struct keyed_sgl {
  uint64_t address = 0;
  uint32_t length = 0;  // 24 bits on the wire
  uint32_t key = 0;
  bool invalidate = false;
};
inline constexpr uint32_t keyed_sgl_max_length = (1u << 24) - 1;

inline bool is_keyed_sgl(uint8_t sgl_identifier) {
  return sgl_identifier == sgl_id::keyed_data_block || sgl_identifier == sgl_id::keyed_data_block_invalidate;
}
// The keyed descriptor in d (is_keyed_sgl(d.sgl_identifier) must hold).
keyed_sgl decode_keyed_sgl(const sgl_descriptor& d);
// Writes k into d with identifier keyed_data_block (or _invalidate).
void encode_keyed_sgl(sgl_descriptor& d, const keyed_sgl& k);

// TSAS of an RDMA discovery log entry (NVMe-oF 1.1 Figure 41).
enum class rdma_qptype : uint8_t { connected = 1, datagram = 2 };
enum class rdma_prtype : uint8_t { not_specified = 1, infiniband = 2, roce = 3, roce_v2 = 4, iwarp = 5 };
enum class rdma_cms : uint8_t { rdma_cm = 1 };
struct rdma_tsas {
  uint8_t qptype;
  uint8_t prtype;
  uint8_t cms;
  uint8_t reserved[5];
  le16 pkey;
};
static_assert(sizeof(rdma_tsas) == 10);

}  // namespace nvmfd
