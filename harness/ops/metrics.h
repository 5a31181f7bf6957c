// System metrics for the MonitoringService: CPU, memory and disk usage read from /proc and
// statvfs (or from any SystemSource, so tests can feed known figures), and the response time of
// the stack's health probes — the seed's MetricsData contract.
//
// Thread safety: a MetricsCollector is used from one thread (it keeps the previous CPU sample).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/clock.h"

namespace faultline::ops {

// The seed's MetricsData: timestamp, cpu_usage 0..100, memory_usage 0..100, response_time_ms >= 0;
// plus disk usage (UT-INFRA-04.1 asks for it).
struct MetricsData {
  std::chrono::system_clock::time_point timestamp;
  double cpu_usage = 0;               // percent of all CPUs busy since the previous collection
  double memory_usage = 0;            // percent of memory not available
  double disk_usage = 0;              // percent of the monitored filesystem used
  std::int64_t response_time_ms = 0;  // the slowest health probe of this collection
};

// Raw counters as the kernel gives them.
struct SystemSample {
  std::uint64_t cpu_total = 0;  // jiffies, all CPUs, all states
  std::uint64_t cpu_idle = 0;   // idle + iowait
  std::uint64_t mem_total_kb = 0;
  std::uint64_t mem_available_kb = 0;
  std::uint64_t disk_total_bytes = 0;
  std::uint64_t disk_free_bytes = 0;
};

class SystemSource {
 public:
  virtual ~SystemSource() = default;
  // Throws faultline::Error if the figures cannot be read.
  virtual SystemSample sample() = 0;
};

// Reads <proc>/stat, <proc>/meminfo and statvfs(<disk_path>).
class ProcSource final : public SystemSource {
 public:
  explicit ProcSource(std::filesystem::path proc = "/proc", std::filesystem::path disk_path = "/");
  SystemSample sample() override;

 private:
  std::filesystem::path proc_, disk_path_;
};

// Parsers for the kernel's text (exposed for tests). Throw faultline::Error on malformed input.
void parse_proc_stat(std::string_view text, SystemSample& out);
void parse_meminfo(std::string_view text, SystemSample& out);

// A health probe's timing: how long one round trip took, measured by the caller on its Clock.
using ResponseProbe = std::function<std::chrono::milliseconds()>;

class MetricsCollector {
 public:
  MetricsCollector(SystemSource& source, Clock& clock, std::vector<ResponseProbe> probes = {});
  // One collection. Throws faultline::Error when the source fails (the caller decides what a
  // failed collection means; the MonitoringService alerts on it).
  MetricsData collect();

 private:
  SystemSource& source_;
  Clock& clock_;
  std::vector<ResponseProbe> probes_;
  bool have_previous_ = false;
  SystemSample previous_;
};

}  // namespace faultline::ops
