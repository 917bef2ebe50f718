#include "metrics/prometheus_text.h"

#include <cmath>
#include <fmt/format.h>

namespace nvmfd::metrics {

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);  // fmt's shortest round-trip form
}

void prometheus_text::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void prometheus_text::write_labels(const labels& l, std::string_view extra_name, std::string_view extra_value) {
  if (l.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  auto one = [&](std::string_view k, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    for (char c : v) {
      if (c == '\\') out_ += "\\\\";
      else if (c == '"') out_ += "\\\"";
      else if (c == '\n') out_ += "\\n";
      else out_ += c;
    }
    out_ += '"';
  };
  for (const auto& [k, v] : l) one(k, v);
  if (!extra_name.empty()) one(extra_name, extra_value);
  out_ += '}';
}

void prometheus_text::sample(std::string_view name, const labels& l, double value) {
  out_ += name;
  write_labels(l);
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void prometheus_text::histogram(std::string_view name, const labels& l, std::span<const double> bounds,
                                std::span<const uint64_t> counts, double sum) {
  std::string bucket = fmt::format("{}_bucket", name);
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    out_ += bucket;
    write_labels(l, "le", i < bounds.size() ? format_value(bounds[i]) : "+Inf");
    out_ += fmt::format(" {}\n", cumulative);
  }
  sample(fmt::format("{}_sum", name), l, sum);
  sample(fmt::format("{}_count", name), l, static_cast<double>(cumulative));
}

}  // namespace nvmfd::metrics
