#include "harness/clients/gpu/smi_parse.h"

#include <charconv>
#include <optional>

#include "harness/core/error.h"

namespace faultline::clients {

const std::vector<std::string> kSmiQueryFields = {"index",
                                                  "name",
                                                  "uuid",
                                                  "pci.bus_id",
                                                  "memory.total",
                                                  "memory.used",
                                                  "utilization.gpu",
                                                  "temperature.gpu",
                                                  "power.draw",
                                                  "ecc.errors.uncorrected.volatile.total",
                                                  "clocks_throttle_reasons.hw_thermal_slowdown"};

std::string smi_query_argument() {
  std::string arg = "--query-gpu=";
  for (std::size_t i = 0; i < kSmiQueryFields.size(); ++i) {
    arg += (i ? "," : "") + kSmiQueryFields[i];
  }
  return arg;
}

namespace {

constexpr std::string_view kLostPrefix = "Unable to determine the device handle for GPU";

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

[[noreturn]] void malformed(int line, const std::string& problem) {
  throw Error("nvidia-smi output line " + std::to_string(line) + ": " + problem);
}

bool unavailable(const std::string& v) {
  return v.size() >= 2 && v.front() == '[' && v.back() == ']';
}

template <class T>
std::optional<T> number(const std::string& v, int line, const char* field) {
  if (unavailable(v)) return std::nullopt;
  T out{};
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) {
    malformed(line, std::string(field) + " is not a number: '" + v + "'");
  }
  return out;
}

std::string_view strip_domain(std::string_view bus) {
  const auto colon = bus.find(':');
  return colon == std::string_view::npos ? bus : bus.substr(colon);
}

}  // namespace

bool same_bus_id(std::string_view a, std::string_view b) {
  return !a.empty() && !b.empty() && strip_domain(a) == strip_domain(b);
}

SmiQueryParse parse_smi_query(std::string_view text) {
  SmiQueryParse result;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const std::string_view raw = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    const std::string line = trim(raw);
    if (line.empty()) continue;
    if (line.rfind(kLostPrefix, 0) == 0) {
      // "... for GPU 0000:07:00.0: GPU is lost. ..." (some versions omit the space after GPU).
      std::string rest = trim(std::string_view(line).substr(kLostPrefix.size()));
      const auto colon = rest.find(": ");
      if (colon == std::string::npos) malformed(line_no, "no bus id in '" + line + "'");
      result.lost_bus_ids.push_back(rest.substr(0, colon));
      continue;
    }
    std::vector<std::string> values;
    std::size_t start = 0;
    for (;;) {
      const auto comma = line.find(',', start);
      values.push_back(trim(std::string_view(line).substr(
          start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (values.size() != kSmiQueryFields.size()) {
      malformed(line_no, "expected " + std::to_string(kSmiQueryFields.size()) + " fields, got " +
                             std::to_string(values.size()));
    }
    GpuReading r;
    const auto index = number<int>(values[0], line_no, "index");
    if (!index || *index < 0) malformed(line_no, "no device index");
    r.index = *index;
    r.name = values[1];
    r.uuid = values[2];
    r.pci_bus_id = values[3];
    if (r.uuid.rfind("GPU-", 0) != 0) malformed(line_no, "uuid '" + r.uuid + "' is not GPU-...");
    r.memory_total_mib = number<std::uint64_t>(values[4], line_no, "memory.total");
    r.memory_used_mib = number<std::uint64_t>(values[5], line_no, "memory.used");
    r.utilization_percent = number<double>(values[6], line_no, "utilization.gpu");
    r.temperature_c = number<double>(values[7], line_no, "temperature.gpu");
    r.power_draw_w = number<double>(values[8], line_no, "power.draw");
    r.ecc_uncorrected_volatile = number<std::uint64_t>(values[9], line_no, "ecc uncorrected");
    if (values[10] == "Active") {
      r.thermal_slowdown = true;
    } else if (values[10] == "Not Active") {
      r.thermal_slowdown = false;
    } else if (!unavailable(values[10])) {
      malformed(line_no, "hw_thermal_slowdown is '" + values[10] + "'");
    }
    if (r.utilization_percent && (*r.utilization_percent < 0 || *r.utilization_percent > 100)) {
      malformed(line_no, "utilization.gpu outside 0..100");
    }
    if (r.memory_total_mib && r.memory_used_mib && *r.memory_used_mib > *r.memory_total_mib) {
      malformed(line_no, "memory.used above memory.total");
    }
    r.health = GpuDeviceHealth::healthy;
    if (r.ecc_uncorrected_volatile && *r.ecc_uncorrected_volatile > 0) {
      r.health = GpuDeviceHealth::failed;
      r.reason = std::to_string(*r.ecc_uncorrected_volatile) + " uncorrectable ECC error(s)";
    } else if (r.thermal_slowdown.value_or(false)) {
      r.health = GpuDeviceHealth::degraded;
      r.reason = "hardware thermal slowdown";
    }
    result.devices.push_back(std::move(r));
  }
  if (result.devices.empty() && result.lost_bus_ids.empty()) {
    throw Error("nvidia-smi printed no device");
  }
  return result;
}

}  // namespace faultline::clients
