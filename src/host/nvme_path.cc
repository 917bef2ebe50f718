#include "host/nvme_path.h"

#include <atomic>

#include "reactor/blocking_call.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {

std::atomic<uint64_t> next_path_id{1};

}  // namespace

nvme_path::nvme_path(reactor_pool& pool, std::shared_ptr<path_supervisor> sup)
    : pool_(pool), id_(next_path_id.fetch_add(1)), sup_(std::move(sup)) {}

void nvme_path::connect_async(reactor_pool& pool, nvme_attach_request req, change_listener on_change,
                              completion<std::unique_ptr<nvme_path>> done) {
  auto sup = std::make_shared<path_supervisor>(pool.control(), std::move(req), real_path_seams(pool),
                                               std::move(on_change));
  sup->start([&pool, sup, done = std::move(done)](result<void> started) mutable {
    if (!started) return done(started.take_err());
    done(std::unique_ptr<nvme_path>(new nvme_path(pool, std::move(sup))));
  });
}

result<std::unique_ptr<nvme_path>> nvme_path::connect(reactor_pool& pool, nvme_attach_request req,
                                                      change_listener on_change) {
  assert_off_reactor("nvme_path::connect");
  return blocking_call<std::unique_ptr<nvme_path>>(
      pool.control(),
      [&pool, req = std::move(req), on_change = std::move(on_change)](
          completion<std::unique_ptr<nvme_path>> done) mutable {
        connect_async(pool, std::move(req), std::move(on_change), std::move(done));
      },
      std::nullopt, "nvme_path::connect");
}

nvme_path::~nvme_path() { stop(); }

void nvme_path::stop_async(completion<void> done) {
  if (std::exchange(stopped_, true)) return pool_.control().post([done = std::move(done)]() mutable { done(success()); });
  sup_->stop(std::move(done));
}

void nvme_path::stop() {
  if (stopped_) return;
  assert_off_reactor("nvme_path::stop");
  (void)blocking_call<void>(
      pool_.control(), [this](completion<void> done) { stop_async(std::move(done)); }, std::nullopt,
      "nvme_path::stop");
}

std::optional<ana_state> nvme_path::ana_state_of(const status& s, uint32_t grpid) {
  if (!s.ana_reporting) return ana_state::optimized;
  auto it = s.ana.find(grpid);
  if (it == s.ana.end()) return std::nullopt;
  return it->second;
}

}  // namespace nvmfd
