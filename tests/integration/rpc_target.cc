#include "rpc_target.h"

#include <fmt/format.h>

#include "rpc/bdev_rpc.h"
#include "rpc/config_loader.h"
#include "rpc/keyring_rpc.h"
#include "rpc/nvmf_auth_rpc.h"
#include "rpc/nvmf_rpc.h"
#include "target_fixture.h"

namespace nvmfd {

rpc_target::rpc_target() : reactors_(2), target_(std::make_unique<nvmf_target>(reactors_)) {
  target_fixture::set_test_log_level();
  target_->set_dhchap_key_resolver(keyring_dhchap_resolver(keyring_));
  add_keyring_methods(methods_, keyring_);
  add_bdev_methods(methods_, bdevs_);
  add_nvmf_methods(methods_, *target_, bdevs_, &keyring_);
}

rpc_target::~rpc_target() {
  target_->shutdown();
  target_.reset();
  reactors_.stop();
}

result<json> rpc_target::call(const std::string& method, const json& params) {
  const rpc_handler* h = methods_.find(method);
  if (!h) return error{errc::not_supported, fmt::format("no method {}", method)};
  return (*h)(params);
}

result<void> rpc_target::load(const json& config) { return load_config(config, methods_); }

json rpc_target::save() const { return save_config(methods_); }

}  // namespace nvmfd
