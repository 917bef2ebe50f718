// Compiled against the host layer's include path: the discovery layer is above the host and
// must not be found (tests/layering/CMakeLists.txt expects this build to fail).
#include "host/nvme_controller_registry.h"
#include "discovery/discovery_service.h"

int layering_probe_host_sees_no_discovery() { return 0; }
