#include "rpc/tls_psk_resolver.h"

#include <fmt/format.h>

#include "tls/psk_file.h"

namespace nvmfd {

result<std::shared_ptr<const tls::configured_psk>> resolve_tls_psk(const std::string& name) {
  if (name.empty() || name[0] != '/')
    return error{errc::not_found,
                 fmt::format("key '{}' not found (until the keyring lands, give the absolute path of a key file)", name)};
  auto psk = tls::read_psk_file(name);
  if (!psk) return psk.take_err();
  return std::make_shared<const tls::configured_psk>(std::move(*psk));
}

}  // namespace nvmfd
