// The --query-gpu fields and the -q -x XML of the fake nvidia-smi (see smi_output.h).
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>

#include "fakes/gpu/smi_output.h"
#include "harness/core/text.h"

namespace faultline::fakes::gpu {

namespace {

std::tm utc(std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

// "2026/11/22 08:00:00.123", as --query-gpu=timestamp prints it.
std::string query_timestamp(std::int64_t unix_ms) {
  const std::tm tm = utc(unix_ms);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

// "Sun Nov 22 08:00:00 2026", as the XML log prints it.
std::string log_timestamp(std::int64_t unix_ms) {
  const std::tm tm = utc(unix_ms);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

std::string watts(double w) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", w);
  return buf;
}

// Throttle reasons as NVML's bit mask: 0x1 GPU idle, 0x40 HW thermal slowdown.
std::string throttle_mask(const GpuDeviceState& d) {
  std::uint64_t mask = 0;
  if (d.utilization_gpu == 0) mask |= 0x1;
  if (d.hw_thermal_slowdown) mask |= 0x40;
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(mask));
  return buf;
}

using Getter = std::function<std::string(const GpuDeviceState&, const GpuClusterState&)>;
struct FieldSpec {
  std::string unit;  // "" for a field printed without a unit
  Getter get;
};

const std::map<std::string, FieldSpec>& field_table() {
  static const auto* table = [] {
    auto* t = new std::map<std::string, FieldSpec>;
    auto add = [t](std::initializer_list<const char*> names, std::string unit, Getter get) {
      for (const char* n : names) (*t)[n] = FieldSpec{unit, get};
    };
    using D = const GpuDeviceState&;
    using S = const GpuClusterState&;
    add({"timestamp"}, "", [](D, S s) { return query_timestamp(s.wall_unix_ms); });
    add({"driver_version"}, "", [](D, S s) { return s.driver_version; });
    add({"count"}, "", [](D, S s) { return std::to_string(s.devices.size()); });
    add({"index"}, "", [](D d, S) { return std::to_string(d.index); });
    add({"name", "gpu_name"}, "", [](D d, S) { return d.name; });
    add({"serial", "gpu_serial"}, "", [](D d, S) { return d.serial; });
    add({"uuid", "gpu_uuid"}, "", [](D d, S) { return d.uuid; });
    add({"pci.bus_id", "gpu_bus_id"}, "", [](D d, S) { return d.pci_bus_id; });
    add({"pstate"}, "", [](D d, S) { return "P" + std::to_string(d.pstate); });
    add({"fan.speed"}, "%", [](D, S) { return std::string("[N/A]"); });
    add({"memory.total"}, "MiB", [](D d, S) { return std::to_string(d.memory_total_mib); });
    add({"memory.reserved"}, "MiB", [](D d, S) { return std::to_string(d.memory_reserved_mib); });
    add({"memory.used"}, "MiB", [](D d, S) { return std::to_string(d.memory_used_mib); });
    add({"memory.free"}, "MiB", [](D d, S) { return std::to_string(d.memory_free_mib()); });
    add({"utilization.gpu"}, "%", [](D d, S) { return std::to_string(d.utilization_gpu); });
    add({"utilization.memory"}, "%", [](D d, S) { return std::to_string(d.utilization_memory); });
    add({"temperature.gpu"}, "", [](D d, S) { return std::to_string(d.temperature_c); });
    add({"power.draw"}, "W", [](D d, S) { return watts(d.power_draw_w); });
    add({"power.limit"}, "W", [](D d, S) { return watts(d.power_limit_w); });
    add({"ecc.errors.corrected.volatile.total"}, "",
        [](D d, S) { return std::to_string(d.ecc_corrected_volatile); });
    add({"ecc.errors.uncorrected.volatile.total"}, "",
        [](D d, S) { return std::to_string(d.ecc_uncorrected_volatile); });
    add({"ecc.errors.corrected.aggregate.total"}, "",
        [](D d, S) { return std::to_string(d.ecc_corrected_aggregate); });
    add({"ecc.errors.uncorrected.aggregate.total"}, "",
        [](D d, S) { return std::to_string(d.ecc_uncorrected_aggregate); });
    add({"clocks_throttle_reasons.active", "clocks_event_reasons.active"}, "",
        [](D d, S) { return throttle_mask(d); });
    add({"clocks_throttle_reasons.hw_thermal_slowdown", "clocks_event_reasons.hw_thermal_slowdown"},
        "", [](D d, S) { return std::string(d.hw_thermal_slowdown ? "Active" : "Not Active"); });
    return t;
  }();
  return *table;
}

}  // namespace

std::optional<SmiFieldValue> smi_field(const std::string& name, const GpuDeviceState& device,
                                       const GpuClusterState& state) {
  const auto& table = field_table();
  const auto it = table.find(name);
  if (it == table.end()) return std::nullopt;
  const std::string value = it->second.get(device, state);
  SmiFieldValue v;
  v.header = it->second.unit.empty() ? name : name + " [" + it->second.unit + "]";
  v.without_unit = value;
  // [N/A] stays as it is; a number gets its unit after a space.
  v.with_unit =
      (it->second.unit.empty() || value == "[N/A]") ? value : value + " " + it->second.unit;
  return v;
}

std::string smi_xml(const GpuClusterState& state, const std::vector<GpuDeviceState>& devices) {
  std::string x;
  auto el = [&x](int depth, const std::string& tag, const std::string& value) {
    x += std::string(static_cast<std::size_t>(depth), '\t') + "<" + tag + ">" +
         markup_escape(value) + "</" + tag + ">\n";
  };
  auto open = [&x](int depth, const std::string& tag) {
    x += std::string(static_cast<std::size_t>(depth), '\t') + "<" + tag + ">\n";
  };
  auto close = [&x](int depth, const std::string& tag) {
    x += std::string(static_cast<std::size_t>(depth), '\t') + "</" + tag + ">\n";
  };
  x += "<?xml version=\"1.0\" ?>\n";
  x += "<!DOCTYPE nvidia_smi_log SYSTEM \"nvsmi_device_v12.dtd\">\n";
  x += "<nvidia_smi_log>\n";
  el(1, "timestamp", log_timestamp(state.wall_unix_ms));
  el(1, "driver_version", state.driver_version);
  el(1, "cuda_version", state.cuda_version);
  el(1, "attached_gpus", std::to_string(state.devices.size()));
  for (const auto& d : devices) {
    x += "\t<gpu id=\"" + markup_escape(d.pci_bus_id) + "\">\n";
    el(2, "product_name", d.name);
    el(2, "serial", d.serial);
    el(2, "uuid", d.uuid);
    el(2, "minor_number", std::to_string(d.index));
    open(2, "pci");
    el(3, "pci_bus_id", d.pci_bus_id);
    close(2, "pci");
    el(2, "performance_state", "P" + std::to_string(d.pstate));
    open(2, "clocks_event_reasons");
    el(3, "clocks_event_reasons_gpu_idle", d.utilization_gpu == 0 ? "Active" : "Not Active");
    el(3, "clocks_event_reason_hw_thermal_slowdown",
       d.hw_thermal_slowdown ? "Active" : "Not Active");
    close(2, "clocks_event_reasons");
    open(2, "fb_memory_usage");
    el(3, "total", std::to_string(d.memory_total_mib) + " MiB");
    el(3, "reserved", std::to_string(d.memory_reserved_mib) + " MiB");
    el(3, "used", std::to_string(d.memory_used_mib) + " MiB");
    el(3, "free", std::to_string(d.memory_free_mib()) + " MiB");
    close(2, "fb_memory_usage");
    open(2, "utilization");
    el(3, "gpu_util", std::to_string(d.utilization_gpu) + " %");
    el(3, "memory_util", std::to_string(d.utilization_memory) + " %");
    close(2, "utilization");
    open(2, "ecc_errors");
    open(3, "volatile");
    el(4, "sram_correctable", "0");
    el(4, "sram_uncorrectable", "0");
    el(4, "dram_correctable", std::to_string(d.ecc_corrected_volatile));
    el(4, "dram_uncorrectable", std::to_string(d.ecc_uncorrected_volatile));
    close(3, "volatile");
    open(3, "aggregate");
    el(4, "sram_correctable", "0");
    el(4, "sram_uncorrectable", "0");
    el(4, "dram_correctable", std::to_string(d.ecc_corrected_aggregate));
    el(4, "dram_uncorrectable", std::to_string(d.ecc_uncorrected_aggregate));
    close(3, "aggregate");
    close(2, "ecc_errors");
    open(2, "temperature");
    el(3, "gpu_temp", std::to_string(d.temperature_c) + " C");
    close(2, "temperature");
    open(2, "gpu_power_readings");
    el(3, "power_draw", watts(d.power_draw_w) + " W");
    el(3, "current_power_limit", watts(d.power_limit_w) + " W");
    close(2, "gpu_power_readings");
    x += "\t</gpu>\n";
  }
  x += "</nvidia_smi_log>\n";
  return x;
}

}  // namespace faultline::fakes::gpu
