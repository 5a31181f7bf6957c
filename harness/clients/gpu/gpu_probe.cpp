#include "harness/clients/gpu/gpu_probe.h"

#include <algorithm>

#include "harness/clients/gpu/smi_parse.h"
#include "harness/core/error.h"
#include "harness/core/log.h"

namespace faultline::clients {

std::string_view to_string(GpuDeviceHealth health) {
  switch (health) {
    case GpuDeviceHealth::healthy:
      return "healthy";
    case GpuDeviceHealth::degraded:
      return "degraded";
    case GpuDeviceHealth::failed:
      return "failed";
    case GpuDeviceHealth::lost:
      return "lost";
    case GpuDeviceHealth::unknown:
      return "unknown";
  }
  return "unknown";
}

bool is_hardware_failure(GpuDeviceHealth health) {
  return health == GpuDeviceHealth::failed || health == GpuDeviceHealth::lost;
}

std::optional<double> GpuReading::memory_used_percent() const {
  if (!memory_total_mib || !memory_used_mib || *memory_total_mib == 0) return std::nullopt;
  return 100.0 * static_cast<double>(*memory_used_mib) / static_cast<double>(*memory_total_mib);
}

GpuProbe::GpuProbe(Clock& clock, std::unique_ptr<GpuSource> source, Journal* journal,
                   ops::AlertManager* alerts, GpuProbeOptions options)
    : clock_(clock),
      source_(std::move(source)),
      journal_(journal),
      alerts_(alerts),
      options_(std::move(options)) {
  if (!source_) throw Error("GpuProbe: no source");
  ops::AlertRule failed{"GpuProbeFailed",
                        "probe_failed",
                        ops::AlertRule::Op::above,
                        0.5,
                        Duration{0},
                        ops::Severity::critical,
                        {{"server", options_.server}},
                        "GPU readings unavailable: nvidia-smi/NVML failed; devices unknown"};
  probe_rules_ = std::make_unique<ops::RuleEvaluator>(std::vector<ops::AlertRule>{failed});
}

std::string GpuProbe::source_name() const {
  return source_->name();
}

GpuQueryResult GpuProbe::query_devices() {
  GpuQueryResult result = source_->query();
  result.at = clock_.now();
  if (result.ok) {
    std::map<int, GpuReading> seen;
    for (auto& r : result.devices) {
      if (r.index < 0) {
        // A lost device named only by its bus id: it is one we read before.
        for (const auto& [index, known] : known_) {
          if (same_bus_id(known.pci_bus_id, r.pci_bus_id)) {
            r.index = index;
            r.name = known.name;
            r.uuid = known.uuid;
          }
        }
      }
      if (r.index >= 0) seen[r.index] = r;
    }
    // A device read before that the source no longer lists has gone from the bus.
    for (const auto& [index, known] : known_) {
      if (seen.count(index) != 0) continue;
      GpuReading gone;
      gone.index = index;
      gone.name = known.name;
      gone.uuid = known.uuid;
      gone.pci_bus_id = known.pci_bus_id;
      gone.health = GpuDeviceHealth::lost;
      gone.reason = "no longer listed by " + source_->name();
      result.devices.push_back(gone);
    }
    for (const auto& [index, r] : seen) known_[index] = r;
  } else {
    // No reading: every device we know of is unknown, never healthy.
    ++failures_;
    result.devices.clear();
    for (const auto& [index, known] : known_) {
      GpuReading r;
      r.index = index;
      r.name = known.name;
      r.uuid = known.uuid;
      r.pci_bus_id = known.pci_bus_id;
      r.health = GpuDeviceHealth::unknown;
      r.reason = result.error;
      result.devices.push_back(std::move(r));
    }
    log::warn("gpu-probe", "GPU query failed",
              {{"server", options_.server}, {"source", result.source}, {"error", result.error}});
  }
  std::sort(result.devices.begin(), result.devices.end(),
            [](const GpuReading& a, const GpuReading& b) { return a.index < b.index; });
  if (journal_ != nullptr) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& r : result.devices) {
      nlohmann::json d = {{"index", r.index}, {"health", std::string(to_string(r.health))}};
      if (r.memory_used_mib) d["memory_used_mib"] = *r.memory_used_mib;
      if (r.memory_total_mib) d["memory_total_mib"] = *r.memory_total_mib;
      if (r.utilization_percent) d["utilization_percent"] = *r.utilization_percent;
      if (!r.reason.empty()) d["reason"] = r.reason;
      devices.push_back(d);
    }
    journal_->append(event_kind::kProbe, "gpu/" + options_.server,
                     {{"source", result.source},
                      {"ok", result.ok},
                      {"error", result.error},
                      {"devices", devices}});
  }
  std::lock_guard lock(mu_);
  last_ = result;
  return result;
}

std::vector<ops::Alert> GpuProbe::gpu_health_check() {
  const GpuQueryResult result = query_devices();
  std::vector<ops::Alert> transitions;
  auto collect = [&transitions](std::vector<ops::Alert> alerts) {
    transitions.insert(transitions.end(), alerts.begin(), alerts.end());
  };
  collect(probe_rules_->evaluate({{"probe_failed", result.ok ? 0.0 : 1.0}}, result.at));
  for (const auto& r : result.devices) {
    if (r.index < 0) continue;
    auto it = device_rules_.find(r.index);
    if (it == device_rules_.end()) {
      const std::map<std::string, std::string> labels = {{"server", options_.server},
                                                         {"gpu", r.cuda_name()}};
      using Op = ops::AlertRule::Op;
      std::vector<ops::AlertRule> rules = {
          {"GpuMemoryHigh", "memory_used_percent", Op::above, options_.memory_warning_percent,
           Duration{0}, ops::Severity::warning, labels, "GPU memory above 80%"},
          {"GpuMemoryCritical", "memory_used_percent", Op::above, options_.memory_critical_percent,
           Duration{0}, ops::Severity::critical, labels, "GPU memory above 90%"},
          {"GpuDeviceUnhealthy", "hardware_failure", Op::above, 0.5, Duration{0},
           ops::Severity::critical, labels, "GPU failed or fell off the bus (Xid, ECC, lost)"},
      };
      it = device_rules_.emplace(r.index, ops::RuleEvaluator(std::move(rules))).first;
    }
    std::map<std::string, double> values;
    if (const auto pct = r.memory_used_percent()) values["memory_used_percent"] = *pct;
    if (r.health != GpuDeviceHealth::unknown) {
      values["hardware_failure"] = is_hardware_failure(r.health) ? 1.0 : 0.0;
    }
    collect(it->second.evaluate(values, result.at));
  }
  if (alerts_ != nullptr) {
    for (const auto& a : transitions) alerts_->submit(a);
  }
  return transitions;
}

std::optional<GpuQueryResult> GpuProbe::last() const {
  std::lock_guard lock(mu_);
  return last_;
}

std::vector<ops::MetricFamily> GpuProbe::metrics() const {
  std::lock_guard lock(mu_);
  ops::MetricFamily used{"faultline_gpu_memory_used_bytes", "GPU memory in use", "gauge", {}};
  ops::MetricFamily total{"faultline_gpu_memory_total_bytes", "GPU memory", "gauge", {}};
  ops::MetricFamily util{"faultline_gpu_utilization_percent", "GPU utilization", "gauge", {}};
  ops::MetricFamily health{
      "faultline_gpu_device_health_info", "1 for the device's health as last read", "gauge", {}};
  ops::MetricFamily ecc{"faultline_gpu_ecc_uncorrected_errors_total",
                        "uncorrectable ECC errors since the last reset",
                        "counter",
                        {}};
  ops::MetricFamily xid{"faultline_gpu_xid_errors_total", "Xid events seen", "counter", {}};
  ops::MetricFamily failures{
      "faultline_gpu_probe_failures_total", "GPU queries that got no reading", "counter", {}};
  failures.samples.push_back({{{"server", options_.server}}, static_cast<double>(failures_)});
  if (last_) {
    for (const auto& r : last_->devices) {
      if (r.index < 0) continue;
      const std::map<std::string, std::string> labels = {{"server", options_.server},
                                                         {"gpu", std::to_string(r.index)}};
      if (r.memory_used_mib) used.samples.push_back({labels, *r.memory_used_mib * 1048576.0});
      if (r.memory_total_mib) total.samples.push_back({labels, *r.memory_total_mib * 1048576.0});
      if (r.utilization_percent) util.samples.push_back({labels, *r.utilization_percent});
      if (r.ecc_uncorrected_volatile) {
        ecc.samples.push_back({labels, static_cast<double>(*r.ecc_uncorrected_volatile)});
      }
      xid.samples.push_back({labels, static_cast<double>(r.xid_events.size())});
      auto with_health = labels;
      with_health["health"] = std::string(to_string(r.health));
      health.samples.push_back({with_health, 1.0});
    }
  }
  return {used, total, util, health, ecc, xid, failures};
}

}  // namespace faultline::clients
