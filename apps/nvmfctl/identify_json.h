#pragma once
// identify_json: nvmfctl's printing of what our host reads, in nvme-cli's output formats (it lives
// with the CLI that prints it: the host library has no JSON), so that scripts written
// against nvme-cli 2.3 (libnvme 1.3) read nvmfctl's output unchanged:
//   - JSON: `nvme id-ctrl -o json`, `nvme id-ns -o json`, `nvme discover -o json`: the same
//     keys in the same order and the same value encodings (numbers, or strings for 128-bit
//     counters, GUIDs and text); printed by to_nvme_cli_text() in json-c's pretty layout.
//   - normal text: `nvme id-ctrl`, `nvme id-ns`, `nvme discover` (non-verbose).
// One deliberate difference: nvme-cli 2.3 stores 32-bit unsigned fields (ver, oaes, sgls,
// nn, ...) with json_object_new_int, so values >= 2^31 come out negative; we print them
// unsigned.
// Pure functions; callable from any thread.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/strong_id.h"
#include "host/discovery_client.h"
#include "proto/identify.h"

namespace nvmfd {

using cli_json = nlohmann::ordered_json;

// json_nvme_id_ctrl (nvme-print.c): vid ... ofcs, psds[] (subnqn only when non-empty).
cli_json id_ctrl_json(const identify_controller& id);
// json_nvme_id_ns: nsze ... nguid, lbafs[{ms, ds, rp}] (npwg..nows only when NSFEAT bit 4).
cli_json id_ns_json(const identify_namespace& ns);
// json_discovery_log (fabrics.c): {"genctr", "records": [{trtype ... eflags, sectype}]}.
cli_json discovery_log_json(const discovery_log& log);

// json-c's JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE layout: two-space
// indent, no space after ':', a newline after '[' and '{'. No trailing newline.
std::string to_nvme_cli_text(const cli_json& j);

// nvme-cli's normal (non-verbose) text, ending in a newline.
std::string id_ctrl_text(const identify_controller& id);
std::string id_ns_text(const identify_namespace& ns, nsid_t nsid);
std::string discovery_log_text(const discovery_log& log);

// libnvme 1.3's names for discovery entry fields ("unrecognized" for unknown values).
std::string_view nvmf_trtype_str(uint8_t trtype);
std::string_view nvmf_adrfam_str(uint8_t adrfam);
std::string_view nvmf_subtype_str(uint8_t subtype);
std::string_view nvmf_treq_str(uint8_t treq);
std::string_view nvmf_eflags_str(uint16_t eflags);
std::string_view nvmf_sectype_str(uint8_t sectype);

}  // namespace nvmfd
