#pragma once
// The configuration nvmfd starts with when no -c is given (README): one 64 MiB RAM
// namespace in nqn.2016-06.io.nvmfd:cnode1 on 127.0.0.1:4420, and discovery on that port.
// It is an ordinary saved config, applied through the same RPC handlers as -c FILE.
#include <nlohmann/json.hpp>

namespace nvmfd {

inline nlohmann::json default_config() {
  return nlohmann::json::parse(R"({
  "subsystems": [
    {"subsystem": "bdev", "config": [
      {"method": "bdev_malloc_create",
       "params": {"name": "Malloc0", "num_blocks": 131072, "block_size": 512}}
    ]},
    {"subsystem": "nvmf", "config": [
      {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
      {"method": "nvmf_create_subsystem",
       "params": {"nqn": "nqn.2016-06.io.nvmfd:cnode1", "allow_any_host": true,
                  "serial_number": "NVMFD000000000000001", "model_number": "nvmfd Controller"}},
      {"method": "nvmf_subsystem_add_ns",
       "params": {"nqn": "nqn.2016-06.io.nvmfd:cnode1", "namespace": {"bdev_name": "Malloc0"}}},
      {"method": "nvmf_subsystem_add_listener",
       "params": {"nqn": "nqn.2016-06.io.nvmfd:cnode1",
                  "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "4420"}}},
      {"method": "nvmf_subsystem_add_listener",
       "params": {"nqn": "nqn.2014-08.org.nvmexpress.discovery",
                  "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "4420"}}}
    ]}
  ]
})");
}

}  // namespace nvmfd
