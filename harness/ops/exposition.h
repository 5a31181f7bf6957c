// Prometheus text exposition (format 0.0.4): writing it for /metrics, and reading it back, which
// the tests use to check what is served and the naming convention seed 000 sets:
// <namespace>_<subsystem>_<name>_<unit>, e.g. faultline_system_memory_usage_percent.
//
// Thread safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::ops {

struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;
  std::string type = "gauge";  // gauge | counter
  std::vector<Sample> samples;
};

std::string to_prometheus_text(const std::vector<MetricFamily>& families);
// Throws faultline::Error naming the line on malformed text.
std::vector<MetricFamily> parse_prometheus_text(std::string_view text);
// At least four parts and a unit suffix (seconds, bytes, percent, ratio, total, info).
bool follows_naming_convention(std::string_view name);

}  // namespace faultline::ops
