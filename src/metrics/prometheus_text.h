#pragma once
// prometheus_text: a page in the Prometheus text exposition format (version 0.0.4): each
// family's "# HELP" and "# TYPE" lines, then its samples, one per line, as
//   name{label="value",...} value
// Label values are escaped (backslash, double quote, newline); values are written as
// integers when whole, otherwise in the shortest form that reads back exactly. Start a
// family before its samples and give all of them together: the format wants a family's
// samples in one group.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nvmfd::metrics {

using labels = std::vector<std::pair<std::string_view, std::string>>;

class prometheus_text {
 public:
  // type: "counter", "gauge" or "histogram". A counter's name ends in _total.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family (name may add a suffix to the family's: _bucket, _sum).
  void sample(std::string_view name, const labels& l, double value);
  // A histogram's samples: cumulative _bucket lines for each upper bound and +Inf, _sum, _count.
  // counts has one more entry than bounds (the count over the last bound).
  void histogram(std::string_view name, const labels& l, std::span<const double> bounds,
                 std::span<const uint64_t> counts, double sum);

  const std::string& text() const { return out_; }

 private:
  void write_labels(const labels& l, std::string_view extra_name = {}, std::string_view extra_value = {});
  std::string out_;
};

// The text of v as the format writes it (also for le="..." bounds).
std::string format_value(double v);

}  // namespace nvmfd::metrics
