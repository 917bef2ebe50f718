// A main() for the fuzz targets without libFuzzer (any compiler): runs every file named on
// the command line, or found (recursively, in name order) under a named directory, through
// LLVMFuzzerTestOneInput once. Used as the corpus regression test of the normal build
// (tests/fuzz/replay.cmake) and to reproduce a crash file under gdb or valgrind.
// With --mutations=N first, it then runs N mutants of those inputs too (bit flips, byte
// changes, insertions, deletions and copies from a fixed-seed generator, so every run is the
// same): a short fuzzing smoke for builds without libFuzzer.
// Exit status: 0 when every input ran, 1 on an unreadable path or no input at all; a
// broken invariant aborts, as under libFuzzer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<std::vector<uint8_t>> inputs;  // every input run, for the mutants

bool run_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", p.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  inputs.push_back(std::move(bytes));
  return true;
}

struct xorshift {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};

// Mutant i of the inputs: one to four edits of input i % inputs.size().
std::vector<uint8_t> mutant(size_t i) {
  xorshift r{0x9E3779B97F4A7C15ull * (i + 1)};
  std::vector<uint8_t> m = inputs[i % inputs.size()];
  for (size_t edits = 1 + r.below(4); edits > 0; --edits) {
    switch (r.below(5)) {
      case 0:
        if (!m.empty()) m[r.below(m.size())] ^= static_cast<uint8_t>(1u << r.below(8));
        break;
      case 1:
        if (!m.empty()) m[r.below(m.size())] = static_cast<uint8_t>(r.next());
        break;
      case 2:
        m.insert(m.begin() + static_cast<ptrdiff_t>(r.below(m.size() + 1)), static_cast<uint8_t>(r.next()));
        break;
      case 3:
        if (!m.empty()) m.erase(m.begin() + static_cast<ptrdiff_t>(r.below(m.size())));
        break;
      default:
        if (m.size() >= 2) {  // copy a run of bytes over another place
          size_t from = r.below(m.size()), to = r.below(m.size());
          size_t n = std::min({1 + r.below(16), m.size() - from, m.size() - to});
          std::copy_n(m.begin() + static_cast<ptrdiff_t>(from), n, m.begin() + static_cast<ptrdiff_t>(to));
        }
        break;
    }
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  size_t runs = 0;
  bool ok = true;
  size_t mutations = 0;
  int first = 1;
  if (argc > 1 && std::string_view(argv[1]).starts_with("--mutations=")) {
    mutations = std::stoul(std::string(argv[1] + 12));
    first = 2;
  }
  for (int i = first; i < argc; ++i) {
    const fs::path arg = argv[i];
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> files;
      for (auto it = fs::recursive_directory_iterator(arg, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec))
        if (it->is_regular_file(ec)) files.push_back(it->path());
      std::sort(files.begin(), files.end());
      for (auto& f : files) {
        ok = run_file(f) && ok;
        ++runs;
      }
    } else {
      ok = run_file(arg) && ok;
      ++runs;
    }
    if (ec) {
      std::fprintf(stderr, "replay: %s: %s\n", arg.c_str(), ec.message().c_str());
      ok = false;
    }
  }
  std::fprintf(stderr, "replay: %zu input(s) ran\n", runs);
  for (size_t i = 0; i < mutations && !inputs.empty(); ++i) {
    auto m = mutant(i);
    LLVMFuzzerTestOneInput(m.data(), m.size());
  }
  if (mutations) std::fprintf(stderr, "replay: %zu mutant(s) ran\n", mutations);
  return ok && runs > 0 ? 0 : 1;
}
