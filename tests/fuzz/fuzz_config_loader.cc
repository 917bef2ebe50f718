// fuzz_config_loader: src/rpc/config_loader on fuzzed saved configurations (SPDK's JSON
// format, with comments) against nvmfd's real method table over an in-process target
// (rpc_world.h). The whole input is the file: read_config_file reads it through a memfd, then
// load_config applies it (accept_spdk_only_methods when the input's length is even).
//
// Oracles besides ASan/UBSan/LSan: a config that loads is saved (save_config), and that saved
// config loads into a fresh world and saves again to the same JSON (what nvmfd saves, it can
// start from, and loading is idempotent on its own output).
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include <spdlog/spdlog.h>

#include "fuzz_support.h"
#include "rpc/config_loader.h"
#include "rpc_world.h"

namespace nvmfd::fuzz {
namespace {

// The input as a file nvmfd reads: a memfd, by its /proc/self/fd path.
result<json> read_as_file(const uint8_t* data, size_t size) {
  int fd = memfd_create("fuzz-config", 0);
  check(fd >= 0, "memfd_create");
  size_t off = 0;
  while (off < size) {
    ssize_t n = ::write(fd, data + off, size - off);
    check(n > 0, "write to memfd");
    off += static_cast<size_t>(n);
  }
  auto j = read_config_file("/proc/self/fd/" + std::to_string(fd));
  ::close(fd);
  return j;
}

// A reload can fail for reasons outside the config: a port another process took meanwhile.
bool outside_reason(const error& e) { return e.message.find("in use") != std::string::npos; }

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  if (const char* l = std::getenv("NVMFD_FUZZ_LOG")) spdlog::set_level(spdlog::level::from_str(l));
  (void)nvmfd::fuzz::rpc_fuzz_pool();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nvmfd;
  using namespace nvmfd::fuzz;
  auto config = read_as_file(data, size);
  if (!config) return 0;
  load_config_options opts;
  opts.accept_spdk_only_methods = size % 2 == 0;
  json saved;
  {
    rpc_world world;
    if (!load_config(*config, world.methods(), opts)) return 0;
    saved = save_config(world.methods());
  }
  json again;
  {
    rpc_world world;
    auto reload = load_config(saved, world.methods(), opts);
    if (!reload && outside_reason(reload.err())) return 0;
    if (!reload) std::fprintf(stderr, "reload of the saved config failed: %s\n%s\n", reload.err().message.c_str(),
                              saved.dump(2).c_str());
    check(reload.ok(), "a saved config does not load");
    again = save_config(world.methods());
  }
  if (again != saved)
    std::fprintf(stderr, "saved:\n%s\nsaved after reload:\n%s\n", saved.dump(2).c_str(), again.dump(2).c_str());
  check(again == saved, "save(load(save(config))) != save(config)");
  return 0;
}
