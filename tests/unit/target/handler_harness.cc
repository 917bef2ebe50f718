#include "handler_harness.h"

#include <gtest/gtest.h>

#include <thread>

#include "bdev/ram_bdev.h"
#include "proto/controller_properties.h"
#include "target/subsystem.h"

namespace nvmfd {

std::shared_ptr<bdev> ram_disk(const std::string& name, uint32_t block_size, uint64_t blocks) {
  auto d = ram_bdev::create(name, block_size, blocks, std::nullopt);
  EXPECT_TRUE(d.ok());
  return d.value();
}

namespace {

void add_namespace(nvmf_target& t, const std::string& nqn, uint32_t nsid, std::shared_ptr<bdev> dev) {
  auto r = t.add_namespace(nqn, ns_params(std::move(dev), nsid));
  EXPECT_TRUE(r.ok()) << r.err().message;
}

}  // namespace

namespace_params ns_params(std::shared_ptr<bdev> dev, uint32_t nsid, bool no_auto_visible) {
  namespace_params p;
  p.dev = std::move(dev);
  p.nsid = nsid_t{nsid};
  p.no_auto_visible = no_auto_visible;
  return p;
}

handler_harness::handler_harness()
    : pool_(std::make_unique<reactor_pool>(1, std::vector<int>{}, poll_settings{}, io_settings{io_backend::epoll},
                                           &time_)),
      target_(std::make_unique<nvmf_target>(*pool_)) {
  subsystem_params open;
  open.nqn = open_nqn;
  open.serial_number = "UNIT0001";
  open.model_number = "nvmfd unit";
  open.max_namespaces = 8;
  open.allow_any_host = true;
  EXPECT_TRUE(target_->create_subsystem(open).ok());
  add_namespace(*target_, open_nqn, 1, ram_disk("unit-open-1", 512, 2048));
  add_namespace(*target_, open_nqn, 2, ram_disk("unit-open-2", 4096, 64));

  subsystem_params acl;
  acl.nqn = acl_nqn;
  acl.max_namespaces = 4;
  EXPECT_TRUE(target_->create_subsystem(acl).ok());
  EXPECT_TRUE(target_->add_host(acl_nqn, allowed_host).ok());
  add_namespace(*target_, acl_nqn, 1, ram_disk("unit-acl-1", 512, 256));

  add_listener(open_nqn);
  add_listener(acl_nqn);
  add_listener(std::string(discovery_nqn));
}

handler_harness::~handler_harness() {
  run([this] {
    for (auto& q : queues_) q->close("test over");
  });
  // Closing posts the I/O queues' closes to the reactor: let them run before the queues go.
  run([] {});
  run([this] { queues_.clear(); });
  target_->shutdown();
}

std::shared_ptr<fake_queue> handler_harness::make_queue(queue_limits limits, queue_endpoint local) {
  auto q = std::make_shared<fake_queue>(*target_, owner(), limits, std::move(local));
  queues_.push_back(q);
  return q;
}

uint16_t handler_harness::submit(fake_queue& q, nvme_sqe s, std::span<const std::byte> data) {
  uint16_t cid = next_cid_++;
  s.cid = cid;
  run([&] { q.submit(s, data); });
  return cid;
}

fake_completion handler_harness::execute(fake_queue& q, nvme_sqe s, std::span<const std::byte> data) {
  return wait(q, submit(q, s, data));
}

fake_completion handler_harness::wait(fake_queue& q, uint16_t cid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    run([] {});  // what the reactor had queued (bdev completions) has run
    if (auto c = q.take_completion(cid)) return *c;
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a poll period (bdevs complete on their own threads)
  }
  ADD_FAILURE() << "no completion for cid " << cid;
  fake_completion none;
  none.status = nvme_status::generic(sc_generic::internal_error);
  return none;
}

bool handler_harness::pending(fake_queue& q, uint16_t cid) {
  run([] {});
  run([] {});
  auto c = q.take_completion(cid);
  return !c.has_value();
}

uint16_t handler_harness::connect_admin(fake_queue& q, const std::string& nqn, const std::string& hostnqn,
                                        uint32_t kato_ms, bool enable) {
  auto c = connect(q, sqe::connect(nqn, hostnqn, 0, 31, cntlid_dynamic, kato_ms));
  EXPECT_TRUE(c.status.ok()) << "admin Connect to " << nqn << ": sct " << int(c.status.sct) << " sc " << int(c.status.sc);
  if (enable) {
    auto e = execute(q, sqe::property_set(property_offset::cc, enable_cc));
    EXPECT_TRUE(e.status.ok());
  }
  return static_cast<uint16_t>(c.cqe.dw0.get() & 0xffff);
}

void handler_harness::connect_io(fake_queue& q, const std::string& nqn, uint16_t cntlid, uint16_t qid,
                                 const std::string& hostnqn, uint16_t sqsize) {
  auto c = connect(q, sqe::connect(nqn, hostnqn, qid, sqsize, cntlid));
  EXPECT_TRUE(c.status.ok()) << "I/O Connect to " << nqn << ": sct " << int(c.status.sct) << " sc " << int(c.status.sc);
}

std::shared_ptr<fake_queue> handler_harness::admin_queue(const std::string& nqn, const std::string& hostnqn) {
  auto q = make_queue();
  connect_admin(*q, nqn, hostnqn);
  return q;
}

handler_harness::io_pair handler_harness::connect_pair(const std::string& nqn, queue_limits limits) {
  io_pair p;
  p.admin = make_queue(limits);
  p.io = make_queue(limits);
  p.cntlid = connect_admin(*p.admin, nqn);
  connect_io(*p.io, nqn, p.cntlid, 1);
  return p;
}

handler_harness::io_pair handler_harness::connect_host(const std::string& hostnqn, const std::string& hostid,
                                                      const std::string& nqn) {
  io_pair p;
  p.admin = make_queue();
  p.io = make_queue();
  auto c = connect(*p.admin, sqe::connect(nqn, hostnqn, 0, 31, cntlid_dynamic, 0, 0, hostid));
  EXPECT_TRUE(c.status.ok()) << "admin Connect of " << hostnqn;
  EXPECT_TRUE(execute(*p.admin, sqe::property_set(property_offset::cc, enable_cc)).status.ok());
  p.cntlid = static_cast<uint16_t>(c.cqe.dw0.get() & 0xffff);
  auto io = connect(*p.io, sqe::connect(nqn, hostnqn, 1, 31, p.cntlid, 0, 0, hostid));
  EXPECT_TRUE(io.status.ok()) << "I/O Connect of " << hostnqn;
  return p;
}

void handler_harness::add_listener(const std::string& nqn, const std::string& traddr, const std::string& trsvcid) {
  auto s = subsystem_of(nqn);
  ASSERT_TRUE(s);
  listen_address a;
  a.traddr = traddr;
  a.trsvcid = trsvcid;
  a.adrfam = traddr.find(':') != std::string::npos ? "IPv6" : "IPv4";
  std::lock_guard lk(target_->mu());
  s->listeners.push_back(a);
}

void handler_harness::add_subsystem(const std::string& nqn, const std::vector<std::shared_ptr<bdev>>& disks,
                                    bool ana_reporting) {
  std::vector<namespace_params> nss;
  for (size_t i = 0; i < disks.size(); ++i) nss.push_back(ns_params(disks[i], static_cast<uint32_t>(i + 1)));
  add_subsystem(nqn, nss, ana_reporting);
}

void handler_harness::add_subsystem(const std::string& nqn, const std::vector<namespace_params>& namespaces,
                                    bool ana_reporting) {
  subsystem_params sp;
  sp.nqn = nqn;
  sp.max_namespaces = std::max<uint32_t>(4, static_cast<uint32_t>(namespaces.size()));
  sp.allow_any_host = true;
  sp.ana_reporting = ana_reporting;
  ASSERT_TRUE(target_->create_subsystem(sp).ok());
  for (auto& np : namespaces) {
    auto r = target_->add_namespace(nqn, np);
    EXPECT_TRUE(r.ok()) << r.err().message;
  }
  add_listener(nqn);
}

void handler_harness::set_ana_state(const std::string& nqn, uint32_t anagrpid, ana_state st) {
  listen_address a;
  a.traddr = fake_queue::default_traddr;
  a.trsvcid = fake_queue::default_trsvcid;
  auto r = target_->set_ana_state(nqn, a, st, anagrpid);
  EXPECT_TRUE(r.ok()) << r.err().message;
}

std::shared_ptr<subsystem> handler_harness::subsystem_of(const std::string& nqn) {
  std::lock_guard lk(target_->mu());
  return target_->find_subsystem_locked(nqn);
}

}  // namespace nvmfd
