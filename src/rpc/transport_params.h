#pragma once
// nvmf_create_transport's params (SPDK's names) for the TCP and RDMA transports, and a
// transport's options as nvmf_get_transports and save_config show them.
#include <nlohmann/json.hpp>

#include "base/result.h"

namespace nvmfd {

class nvmf_target;
class target_transport;

// Creates the transport params name (trtype TCP or RDMA) and adds it to t; a bad param, an
// unknown trtype or (RDMA) a machine without RDMA devices is an error naming it.
result<nlohmann::json> create_transport(nvmf_target& t, const nlohmann::json& params);
// tr's options as nvmf_create_transport params.
nlohmann::json transport_json(const target_transport& tr);

}  // namespace nvmfd
