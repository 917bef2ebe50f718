#include "target/subsystem.h"

namespace nvmfd {

bool subsystem::listens_on(const std::string& traddr, const std::string& trsvcid) const {
  for (auto& l : listeners)
    if (l.traddr == traddr && l.trsvcid == trsvcid) return true;
  return false;
}

uint16_t subsystem::allocate_cntlid() {
  if (min_cntlid > max_cntlid) return 0;
  uint32_t span = uint32_t{max_cntlid} - min_cntlid + 1;
  for (uint32_t i = 0; i < span; ++i) {
    uint16_t c = static_cast<uint16_t>(min_cntlid + (next_cntlid_ + i) % span);
    auto it = controllers_.find(c);
    if (it == controllers_.end() || it->second.expired()) {
      next_cntlid_ = static_cast<uint16_t>((c - min_cntlid + 1) % span);
      return c;
    }
  }
  return 0;
}

}  // namespace nvmfd
