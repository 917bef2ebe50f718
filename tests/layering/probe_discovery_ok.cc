// Compiled against the discovery layer's include path: its own headers and those of the two
// layers it sits on (host and target) are there.
#include "discovery/discovery_service.h"
#include "host/nvme_controller_registry.h"
#include "target/nvmf_target.h"

int layering_probe_discovery_ok() { return 0; }
