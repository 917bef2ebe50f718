#pragma once
// nvmfd's NVMe/TCP host (initiator), for programs that embed it.
//
//   nvmfd::nvme_host host(2);                                  // 2 reactors (threads)
//   auto c = host.connect("trtype:tcp traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.2016-06.io.nvmfd:cnode1");
//   std::vector<std::byte> buf(4096);
//   host.write(**c, 1, 0, buf);                                // nsid 1, LBA 0
//   host.read(**c, 1, 0, buf);
//   auto entries = host.discover("trtype:tcp traddr:127.0.0.1 trsvcid:4420");
//
// The synchronous calls here are for simple programs and tools: they may be called from any
// thread that is not one of the host's reactors, and wait for the result. Programs that
// need speed submit asynchronously on the reactors instead: host_controller::io_queue(r)
// gives the calling reactor's host_queue (alloc, fill, submit; the host_callback runs on
// that reactor) — see src/host/host_queue.h and apps/nvmf_perf for the pattern.
//
// Errors are nvmfd::result values: a connect that fails names the reason (unreachable,
// unknown subsystem, host not allowed, ...); an I/O that fails carries the NVMe status in
// the message and errc::io_error.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "host/discovery_client.h"
#include "host/host_controller.h"
#include "host/reservation_request.h"
#include "host/transport_id.h"
#include "reactor/reactor.h"

namespace nvmfd {

class nvme_host {
 public:
  // reactors: how many event-loop threads (I/O queues are spread over them).
  explicit nvme_host(unsigned reactors = 1, std::vector<int> cpus = {});
  ~nvme_host();

  reactor_pool& reactors() { return pool_; }

  // trid in SPDK's form: "trtype:tcp adrfam:ipv4 traddr:... trsvcid:... subnqn:...".
  result<std::shared_ptr<host_controller>> connect(const std::string& trid, const controller_options& opts = {});
  // Reads the discovery log of the discovery controller at trid (subnqn optional), following
  // referrals.
  result<std::vector<discovery_entry>> discover(const std::string& trid, const controller_options& opts = {});

  // Synchronous I/O on namespace nsid; the buffer's size must be a multiple of the block size.
  result<void> read(host_controller& c, nsid_t nsid, uint64_t slba, std::span<std::byte> buf);
  result<void> write(host_controller& c, nsid_t nsid, uint64_t slba, std::span<const std::byte> buf);
  result<void> flush(host_controller& c, nsid_t nsid);

  // NVMe reservations on namespace nsid through c's first I/O queue (host/reservation_request.h
  // has the fields). The registrant is c's Host ID: every controller connected with the same
  // controller_options::hostid shares the registration. Errors: io_error naming the NVMe
  // status ("Reservation Acquire: Reservation Conflict (...)", sys_errno EACCES for a
  // conflict), not_supported without an I/O queue, the queue's errors.
  result<void> resv_register(host_controller& c, nsid_t nsid, const reservation_register_request& r);
  result<void> resv_acquire(host_controller& c, nsid_t nsid, const reservation_acquire_request& r);
  result<void> resv_release(host_controller& c, nsid_t nsid, const reservation_release_request& r);
  // eds: the extended data structure, with 128-bit host IDs.
  result<reservation_report> resv_report(host_controller& c, nsid_t nsid, bool eds = true);

 private:
  reactor_pool pool_;
};

}  // namespace nvmfd
