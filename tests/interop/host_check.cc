// nvmf-host-check: our host library against a real NVMe/TCP target (the Linux kernel's
// nvmet in the tests/guest guest, see kernel_target.sh). Exit status 0 when every check
// passed, 1 otherwise (each failure printed on stderr).
//
//   nvmf-host-check io -a ADDR -s PORT -n NQN --seed S --offset BYTES --size BYTES
//                   [-g] [-G] [--pattern-out FILE] [-q HOSTNQN] [-S SECRET [-C CTRL_SECRET]]
//     Connects (digests as asked: -g header, -G data), writes a pseudo-random pattern
//     (from S) over [offset, offset + size) of namespace 1 in a repeating mix of 4 KiB
//     (in-capsule), 128 KiB and 1 MiB writes (R2T + H2CData) from several threads on every
//     I/O queue, reads it back in another mix of sizes, compares, flushes, and writes the
//     pattern to FILE so that the target side can check what landed on its medium. -S / -C:
//     DH-HMAC-CHAP secrets (DHHC-1) of the host and of the controller, as nvme connect's.
//   nvmf-host-check discover -a ADDR -s PORT --expect-nqn NQN --expect-visits N
//     Walks the discovery services from ADDR:PORT following referrals; checks that NQN is
//     listed and that N services answered.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "host/discovery_client.h"
#include "host/host_controller.h"
#include "host/io_command.h"
#include "host/sync_command.h"
#include "host/dhchap_key_text.h"
#include "tls/psk_file.h"

namespace nvmfd {
namespace {

std::atomic<int> failures{0};

template <class... Args>
void check_failed(fmt::format_string<Args...> f, Args&&... args) {
  ++failures;
  std::cerr << "CHECK FAILED: " << fmt::format(f, std::forward<Args>(args)...) << "\n";
}

// xorshift64*: the pattern is a function of the seed and the byte offset in the region.
std::vector<std::byte> make_pattern(uint64_t seed, size_t size) {
  std::vector<std::byte> p(size);
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < size; i += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t v = x * 0x2545f4914f6cdd1dull;
    std::memcpy(p.data() + i, &v, std::min<size_t>(8, size - i));
  }
  return p;
}

// Splits [0, size) into pieces whose sizes cycle through `mix` (the last one may be shorter).
std::vector<std::pair<uint64_t, uint32_t>> split(uint64_t size, const std::vector<uint32_t>& mix) {
  std::vector<std::pair<uint64_t, uint32_t>> out;
  for (uint64_t off = 0, i = 0; off < size; ++i) {
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(mix[i % mix.size()], size - off));
    out.emplace_back(off, n);
    off += n;
  }
  return out;
}

struct io_args {
  transport_id trid;
  bool hdgst = false, ddgst = false;
  uint64_t seed = 1, offset = 0, size = 8u << 20;
  std::string pattern_out;
  std::string hostnqn, dhchap_secret, dhchap_ctrl_secret;
  unsigned threads = 4;
  std::string psk_path;  // TLS 1.3 with the PSK in this interchange key file
};

// Runs `pieces` on the controller's I/O queues from several threads (each thread takes
// every threads-th piece, on queue thread % queues): several commands are in flight at once.
void run_pieces(host_controller& c, const io_args& a, nsid_t nsid, uint32_t block,
                const std::vector<std::pair<uint64_t, uint32_t>>& pieces, bool write, std::vector<std::byte>& data) {
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < a.threads; ++t) {
    workers.emplace_back([&, t] {
      host_queue& q = *c.io_queues()[t % c.io_queues().size()];
      for (size_t i = t; i < pieces.size(); i += a.threads) {
        auto [off, len] = pieces[i];
        uint64_t slba = (a.offset + off) / block;
        auto cmd = make_rw(write ? io_opcode::write : io_opcode::read, nsid, slba, len / block);
        std::vector<std::byte> buf(len);
        if (write) std::memcpy(buf.data(), data.data() + off, len);
        auto r = run_sync(q, cmd, std::move(buf), write, 60000);
        if (!r) {
          check_failed("{} of {} bytes at {}: {}", write ? "write" : "read", len, a.offset + off, r.err().message);
          return;
        }
        if (!r->completion.status.ok()) {
          check_failed("{} of {} bytes at {}: NVMe status SCT {:#x} SC {:#x}", write ? "write" : "read", len,
                       a.offset + off, static_cast<unsigned>(r->completion.status.sct), r->completion.status.sc);
          return;
        }
        if (!write) std::memcpy(data.data() + off, r->data.data(), len);
      }
    });
  }
  for (auto& w : workers) w.join();
}

int run_io(const io_args& a) {
  controller_options opts;
  opts.hdgst = a.hdgst;
  opts.ddgst = a.ddgst;
  opts.num_io_queues = 2;
  opts.hostnqn = a.hostnqn;
  if (auto s = set_dhchap_secrets(opts, a.dhchap_secret, a.dhchap_ctrl_secret); !s) {
    check_failed("{}", s.err().message);
    return 1;
  }
  if (!a.psk_path.empty()) {
    auto psk = tls::read_psk_file(a.psk_path);
    if (!psk) {
      check_failed("{}", psk.err().message);
      return 1;
    }
    opts.tls_psk = std::make_shared<const tls::configured_psk>(std::move(*psk));
  }
  reactor_pool pool(2);
  auto t0 = std::chrono::steady_clock::now();
  auto c = host_controller::connect(pool, a.trid, opts);
  if (!c) {
    check_failed("connect to {}: {}", a.trid.to_string(), c.err().message);
    return 1;
  }
  auto& ctrl = **c;
  std::cout << fmt::format("connected: cntlid {} mn '{}' {} I/O queues, max transfer {} bytes, digests {}/{}\n",
                           ctrl.cntlid(), std::string_view(ctrl.identity().mn.data(), ctrl.identity().mn.size()),
                           ctrl.io_queue_count(), ctrl.max_transfer_bytes(), a.hdgst, a.ddgst);
  if (ctrl.namespaces().empty()) {
    check_failed("no active namespace");
    return 1;
  }
  const auto& ns = ctrl.namespaces().front();
  uint32_t block = ns.block_size;
  if (a.offset % block || a.size % 4096 || (a.offset + a.size) / block > ns.num_blocks) {
    check_failed("region [{}, +{}) does not fit namespace {} ({} blocks of {})", a.offset, a.size, ns.nsid,
                 ns.num_blocks, block);
    return 1;
  }
  uint32_t ioccsz_bytes = ctrl.identity().ioccsz.get() * 16;
  std::cout << fmt::format("namespace {}: {} blocks of {}; in-capsule data up to {} bytes\n", ns.nsid, ns.num_blocks,
                           block, ioccsz_bytes > 64 ? ioccsz_bytes - 64 : 0);

  auto pattern = make_pattern(a.seed, a.size);
  auto writes = split(a.size, {4096, 131072, 1048576, 4096, 4096, 131072});
  run_pieces(ctrl, a, ns.nsid, block, writes, true, pattern);
  std::vector<std::byte> back(a.size);
  auto reads = split(a.size, {1048576, 4096, 131072, 8192});
  run_pieces(ctrl, a, ns.nsid, block, reads, false, back);
  if (back != pattern) {
    size_t i = 0;
    while (i < back.size() && back[i] == pattern[i]) ++i;
    check_failed("read back differs from what was written, first at byte {} of the region", i);
  } else {
    std::cout << fmt::format("{} writes and {} reads over {} bytes at offset {}: data identical\n", writes.size(),
                             reads.size(), a.size, a.offset);
  }
  for (auto& q : ctrl.io_queues()) {
    auto f = run_sync(*q, make_flush(ns.nsid), {}, false, 60000);
    if (!f || !f->completion.status.ok())
      check_failed("flush on queue {}: {}", q->qid(), f ? "NVMe error status" : f.err().message);
  }
  if (ctrl.failed()) check_failed("controller failed: {}", ctrl.failure_reason());
  ctrl.disconnect();
  if (!a.pattern_out.empty()) {
    std::ofstream out(a.pattern_out, std::ios::binary);
    out.write(reinterpret_cast<const char*>(pattern.data()), static_cast<std::streamsize>(pattern.size()));
    if (!out) check_failed("cannot write {}", a.pattern_out);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("io check {} in {} ms\n", failures ? "FAILED" : "passed", ms);
  return failures ? 1 : 0;
}

int run_discover(const transport_id& root, const std::string& expect_nqn, int expect_visits) {
  reactor_pool pool(1);
  controller_options opts;
  opts.kato_ms = 0;
  int answered = 0;
  auto source = [&](const transport_id& where) -> result<discovery_log> {
    std::cout << "visiting discovery service " << where.traddr << ":" << where.trsvcid << "\n";
    auto c = host_controller::connect(pool, where, opts);
    if (!c) return c.take_err();
    auto log = read_discovery_log(**c);
    (*c)->disconnect();
    if (log) ++answered;
    return log;
  };
  auto entries = walk_discovery(source, root, true);
  if (!entries) {
    check_failed("discovery from {}:{}: {}", root.traddr, root.trsvcid, entries.err().message);
    return 1;
  }
  bool seen = false;
  for (const auto& e : *entries) {
    std::cout << fmt::format("  subtype {} {} {}:{} portid {}\n", e.subtype, e.subnqn, e.traddr, e.trsvcid, e.portid);
    seen = seen || e.subnqn == expect_nqn;
  }
  if (!seen) check_failed("{} is not in the merged discovery log", expect_nqn);
  if (answered != expect_visits) check_failed("{} discovery services answered, expected {}", answered, expect_visits);
  return failures ? 1 : 0;
}

}  // namespace
}  // namespace nvmfd

int main(int argc, char** argv) {
  using namespace nvmfd;
  CLI::App app{"nvmf-host-check: our NVMe/TCP host against a real target"};
  app.require_subcommand(1);
  std::string traddr = "127.0.0.1", trsvcid, nqn;
  io_args io;
  auto* io_cmd = app.add_subcommand("io", "verified writes and reads, then flush");
  io_cmd->add_option("-a,--traddr", traddr);
  io_cmd->add_option("-s,--trsvcid", trsvcid)->required();
  io_cmd->add_option("-n,--nqn", nqn)->required();
  io_cmd->add_option("--seed", io.seed);
  io_cmd->add_option("--offset", io.offset);
  io_cmd->add_option("--size", io.size);
  io_cmd->add_flag("-g,--hdr-digest", io.hdgst);
  io_cmd->add_flag("-G,--data-digest", io.ddgst);
  io_cmd->add_option("--pattern-out", io.pattern_out);
  io_cmd->add_option("-q,--hostnqn", io.hostnqn);
  io_cmd->add_option("-S,--dhchap-secret", io.dhchap_secret);
  io_cmd->add_option("-C,--dhchap-ctrl-secret", io.dhchap_ctrl_secret);
  io_cmd->add_option("--psk-path", io.psk_path, "TLS 1.3 with the PSK of this interchange key file (mode 0600)");
  std::string expect_nqn;
  int expect_visits = 1;
  auto* disc_cmd = app.add_subcommand("discover", "follow referrals from a discovery service");
  disc_cmd->add_option("-a,--traddr", traddr);
  disc_cmd->add_option("-s,--trsvcid", trsvcid)->required();
  disc_cmd->add_option("--expect-nqn", expect_nqn)->required();
  disc_cmd->add_option("--expect-visits", expect_visits);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::info);

  transport_id trid;
  trid.traddr = traddr;
  trid.trsvcid = trsvcid;
  if (*io_cmd) {
    trid.subnqn = nqn;
    io.trid = trid;
    return run_io(io);
  }
  return run_discover(trid, expect_nqn, expect_visits);
}
