#pragma once
// The DNS-SD service of NVMe-oF discovery controllers (TP8009): what nvmfd publishes and browses.
//
//   type  _nvme-disc._tcp   (DNS-SD over TCP, for a discovery controller)
//   TXT   p=tcp             the NVMe transport (tcp; RDMA would be roce or iwarp)
//         nqn=nqn.2014-08.org.nvmexpress.discovery
//
// These are the records SPDK's lib/nvmf/mdns_server.c publishes and that SPDK's
// bdev_mdns_client.c and nvme-stas (stafd) read: keys "p" and "nqn", matched case-insensitively
// (RFC 6763 6.4), so "NQN=" from other publishers is read too.
#include <string_view>

namespace nvmfd {

inline constexpr std::string_view nvme_disc_service_type = "_nvme-disc._tcp";
inline constexpr std::string_view nvme_disc_txt_transport_key = "p";
inline constexpr std::string_view nvme_disc_txt_nqn_key = "nqn";
inline constexpr std::string_view nvme_disc_transport_tcp = "tcp";
// The NQN in the TXT of a discovery controller (the well-known discovery NQN).
inline constexpr std::string_view nvme_disc_nqn = "nqn.2014-08.org.nvmexpress.discovery";

}  // namespace nvmfd
