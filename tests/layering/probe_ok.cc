// Compiled against the reactor layer's include path: its own and base's headers are there.
#include "base/result.h"
#include "reactor/reactor.h"

int layering_probe_ok() { return nvmfd::reactor::current() == nullptr ? 0 : 1; }
