#pragma once
// free_port: a TCP port on 127.0.0.1 that was free a moment ago (tests and benchmarks).
#include <cstdint>

namespace nvmfd::test {

uint16_t free_port();

}  // namespace nvmfd::test
