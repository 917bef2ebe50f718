#include "target/ptpl_writer.h"

namespace nvmfd {

uint64_t ptpl_writer::stage(std::string text) {
  std::lock_guard lk(mu_);
  staged_text_ = std::move(text);
  return ++staged_;
}

result<void> ptpl_writer::make_durable(uint64_t number, file_calls& calls) {
  if (durable_ >= number) return success();
  std::string text;
  uint64_t newest = 0;
  {
    std::lock_guard lk(mu_);
    text = staged_text_;
    newest = staged_;
  }
  auto written = write_file_durably(path_, text, calls);
  if (!written) return written;
  durable_ = newest;
  return success();
}

}  // namespace nvmfd
