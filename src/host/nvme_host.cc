#include "nvmfd/host.h"

#include <cstring>
#include <fmt/format.h>

#include "host/io_command.h"
#include "host/sync_command.h"

namespace nvmfd {

namespace {

const remote_namespace* find_ns(const host_controller& c, nsid_t nsid) {
  for (auto& ns : c.namespaces())
    if (ns.nsid == nsid) return &ns;
  return nullptr;
}

result<void> check(const nvme_completion& c, const char* what) {
  if (c.status.ok()) return success();
  return error{errc::io_error, fmt::format("{}: NVMe status SCT {:#x} SC {:#x}", what,
                                           static_cast<unsigned>(c.status.sct), c.status.sc)};
}

// Runs one I/O command per chunk of at most the controller's MDTS on the first I/O queue.
result<void> chunked_io(host_controller& c, nsid_t nsid, uint64_t slba, std::byte* data, size_t len, bool write) {
  auto* ns = find_ns(c, nsid);
  if (!ns) return error{errc::not_found, fmt::format("namespace {} is not active", nsid)};
  if (len % ns->block_size) return error{errc::invalid_argument, "buffer size is not a multiple of the block size"};
  if (c.io_queues().empty()) return error{errc::not_supported, "the controller has no I/O queue"};
  host_queue& q = *c.io_queues().front();
  uint32_t max_blocks = std::min(c.max_transfer_bytes() / ns->block_size, max_nlb_per_command);
  if (max_blocks == 0)
    return error{errc::not_supported, fmt::format("a block of {} bytes exceeds the controller's largest transfer ({} bytes)",
                                                  ns->block_size, c.max_transfer_bytes())};
  uint64_t blocks = len / ns->block_size;
  for (uint64_t done = 0; done < blocks;) {
    uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(blocks - done, max_blocks));
    size_t off = done * ns->block_size, bytes = size_t{n} * ns->block_size;
    std::vector<std::byte> buf(bytes);
    if (write) std::memcpy(buf.data(), data + off, bytes);
    auto cmd = make_rw(write ? io_opcode::write : io_opcode::read, nsid, slba + done, n);
    auto r = run_sync(q, cmd, std::move(buf), write, c.options().io_timeout_ms + 2000);
    if (!r) return r.take_err();
    if (auto ok = check(r->completion, write ? "Write" : "Read"); !ok) return ok;
    if (!write) std::memcpy(data + off, r->data.data(), bytes);
    done += n;
  }
  return success();
}

// Reservation commands on the first I/O queue.
result<nvm_command_runner> first_queue_runner(host_controller& c) {
  if (c.io_queues().empty()) return error{errc::not_supported, "the controller has no I/O queue"};
  host_queue* q = c.io_queues().front().get();
  uint32_t wait_ms = c.options().io_timeout_ms + 2000;
  return nvm_command_runner([q, wait_ms](const nvm_command& cmd) {
    return run_sync(*q, cmd.cmd, cmd.data, cmd.host_to_controller, wait_ms);
  });
}

}  // namespace

nvme_host::nvme_host(unsigned reactors, std::vector<int> cpus) : pool_(reactors, std::move(cpus)) {}

nvme_host::~nvme_host() { pool_.stop(); }

result<std::shared_ptr<host_controller>> nvme_host::connect(const std::string& trid, const controller_options& opts) {
  auto id = transport_id::parse(trid);
  if (!id) return id.take_err();
  return host_controller::connect(pool_, *id, opts);
}

result<std::vector<discovery_entry>> nvme_host::discover(const std::string& trid, const controller_options& opts) {
  auto id = transport_id::parse(trid);
  if (!id) return id.take_err();
  return nvmfd::discover(pool_, *id, opts, true);
}

result<void> nvme_host::read(host_controller& c, nsid_t nsid, uint64_t slba, std::span<std::byte> buf) {
  return chunked_io(c, nsid, slba, buf.data(), buf.size(), false);
}

result<void> nvme_host::write(host_controller& c, nsid_t nsid, uint64_t slba, std::span<const std::byte> buf) {
  return chunked_io(c, nsid, slba, const_cast<std::byte*>(buf.data()), buf.size(), true);
}

result<void> nvme_host::flush(host_controller& c, nsid_t nsid) {
  if (c.io_queues().empty()) return error{errc::not_supported, "the controller has no I/O queue"};
  auto r = run_sync(*c.io_queues().front(), make_flush(nsid), {}, false, c.options().io_timeout_ms + 2000);
  if (!r) return r.take_err();
  return check(r->completion, "Flush");
}

result<void> nvme_host::resv_register(host_controller& c, nsid_t nsid, const reservation_register_request& r) {
  auto run = first_queue_runner(c);
  if (!run) return run.take_err();
  return reservation_register(*run, nsid, r);
}

result<void> nvme_host::resv_acquire(host_controller& c, nsid_t nsid, const reservation_acquire_request& r) {
  auto run = first_queue_runner(c);
  if (!run) return run.take_err();
  return reservation_acquire(*run, nsid, r);
}

result<void> nvme_host::resv_release(host_controller& c, nsid_t nsid, const reservation_release_request& r) {
  auto run = first_queue_runner(c);
  if (!run) return run.take_err();
  return reservation_release(*run, nsid, r);
}

result<reservation_report> nvme_host::resv_report(host_controller& c, nsid_t nsid, bool eds) {
  auto run = first_queue_runner(c);
  if (!run) return run.take_err();
  return reservation_report_of(*run, nsid, eds);
}

}  // namespace nvmfd
