// Compiled against the reactor layer's include path: a target header is above the reactor
// layer and must not be found (tests/layering/CMakeLists.txt expects this build to fail).
#include "reactor/reactor.h"
#include "target/controller.h"

int layering_probe_wrong_way() { return 0; }
