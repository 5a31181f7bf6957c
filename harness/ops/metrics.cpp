#include "harness/ops/metrics.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "harness/core/error.h"

namespace faultline::ops {
namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw Error("cannot read " + p.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

double percent(double part, double whole) {
  if (whole <= 0) return 0;
  return std::clamp(100.0 * part / whole, 0.0, 100.0);
}

}  // namespace

void parse_proc_stat(std::string_view text, SystemSample& out) {
  std::istringstream in{std::string(text)};
  std::string label;
  in >> label;
  if (label != "cpu") throw Error("/proc/stat does not start with the cpu line");
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user/nice).
  std::uint64_t v[8] = {};
  int n = 0;
  for (; n < 8 && (in >> v[n]); ++n) {
  }
  if (n < 4) throw Error("/proc/stat: the cpu line has " + std::to_string(n) + " fields");
  out.cpu_total = 0;
  for (int i = 0; i < n; ++i) out.cpu_total += v[i];
  out.cpu_idle = v[3] + (n > 4 ? v[4] : 0);
}

void parse_meminfo(std::string_view text, SystemSample& out) {
  std::istringstream in{std::string(text)};
  std::string key;
  std::uint64_t value = 0;
  std::string unit;
  bool total = false, available = false;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemTotal:") out.mem_total_kb = value, total = true;
    if (key == "MemAvailable:") out.mem_available_kb = value, available = true;
  }
  if (!total || !available) throw Error("/proc/meminfo lacks MemTotal or MemAvailable");
}

ProcSource::ProcSource(std::filesystem::path proc, std::filesystem::path disk_path)
    : proc_(std::move(proc)), disk_path_(std::move(disk_path)) {}

SystemSample ProcSource::sample() {
  SystemSample s;
  parse_proc_stat(read_text(proc_ / "stat"), s);
  parse_meminfo(read_text(proc_ / "meminfo"), s);
  struct statvfs vfs {};
  if (::statvfs(disk_path_.c_str(), &vfs) != 0) {
    throw Error("statvfs(" + disk_path_.string() + ") failed");
  }
  s.disk_total_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  s.disk_free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  return s;
}

MetricsCollector::MetricsCollector(SystemSource& source, Clock& clock,
                                   std::vector<ResponseProbe> probes)
    : source_(source), clock_(clock), probes_(std::move(probes)) {}

MetricsData MetricsCollector::collect() {
  const SystemSample now = source_.sample();
  MetricsData m;
  m.timestamp = clock_.wall_now();
  // CPU is a rate: busy jiffies over all jiffies since the previous sample (since boot, first).
  const SystemSample base = have_previous_ ? previous_ : SystemSample{};
  const double total = static_cast<double>(now.cpu_total - std::min(now.cpu_total, base.cpu_total));
  const double idle = static_cast<double>(now.cpu_idle - std::min(now.cpu_idle, base.cpu_idle));
  m.cpu_usage = percent(total - idle, total);
  m.memory_usage = percent(
      static_cast<double>(now.mem_total_kb - std::min(now.mem_total_kb, now.mem_available_kb)),
      static_cast<double>(now.mem_total_kb));
  m.disk_usage = percent(static_cast<double>(now.disk_total_bytes -
                                             std::min(now.disk_total_bytes, now.disk_free_bytes)),
                         static_cast<double>(now.disk_total_bytes));
  for (const auto& probe : probes_) {
    m.response_time_ms = std::max<std::int64_t>(m.response_time_ms, probe().count());
  }
  previous_ = now;
  have_previous_ = true;
  return m;
}

}  // namespace faultline::ops
