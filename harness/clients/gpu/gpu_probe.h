// GpuProbe: reads a GPU server's devices — through NVML (dlopen("libnvidia-ml.so.1")) when the
// library is there, else by running and parsing `nvidia-smi --query-gpu=... --format=csv`, else
// from an in-process FakeGpuCluster — and turns the readings into health, alerts and metrics.
//
// query_devices() never reports a device healthy on a reading it did not get: when nvidia-smi is
// missing, hangs past the timeout, exits non-zero or prints something that does not parse, the
// result is not `ok`, every device known from earlier readings is reported with health `unknown`,
// and gpu_health_check() raises GpuProbeFailed (ET-INFRA-06.2). A device nvidia-smi reports as
// lost ("Unable to determine the device handle for GPU ...: GPU is lost") is reported `lost`.
//
// gpu_health_check() evaluates the thresholds of seed 003 per device — memory used above 80 %
// warning (GpuMemoryHigh), above 90 % critical (GpuMemoryCritical) — and raises GpuDeviceUnhealthy
// (critical) for a failed or lost device, hands the transitions to the AlertManager and returns
// them. Every query is journaled as a `probe` event with subject "gpu/<server>".
//
// Thread safety: one thread uses a GpuProbe (query_devices, gpu_health_check); metrics() and
// last() may be read from others (one lock). Sources are used by their probe only.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/ops/alert_manager.h"
#include "harness/ops/alerts.h"
#include "harness/ops/exposition.h"

namespace faultline::fakes::gpu {
class FakeGpuCluster;
}

namespace faultline::clients {

enum class GpuDeviceHealth {
  healthy,
  degraded,  // works, but throttling or out of memory: no new jobs
  failed,    // uncorrectable ECC error or a fatal Xid: move its jobs
  lost,      // fell off the bus: move its jobs
  unknown,   // no reading (probe failed): never taken for healthy
};
std::string_view to_string(GpuDeviceHealth health);
// True for failed and lost: the device's jobs must move.
bool is_hardware_failure(GpuDeviceHealth health);

// One device as one source reported it. Optional readings are those the source could not give.
struct GpuReading {
  int index = -1;
  std::string name, uuid, pci_bus_id;
  std::optional<std::uint64_t> memory_total_mib, memory_used_mib;
  std::optional<double> utilization_percent, temperature_c, power_draw_w;
  std::optional<std::uint64_t> ecc_uncorrected_volatile;
  std::optional<bool> thermal_slowdown;
  std::vector<int> xid_events;  // codes; NVML and the fake only (nvidia-smi cannot report them)
  GpuDeviceHealth health = GpuDeviceHealth::unknown;
  std::string reason;  // why it is not healthy, for people

  std::string cuda_name() const { return "CUDA:" + std::to_string(index); }
  // memory used / total in percent; nullopt without both readings or with a zero total.
  std::optional<double> memory_used_percent() const;
};

struct GpuQueryResult {
  std::string source;  // "nvml", "nvidia-smi" or "fake"
  bool ok = false;     // false: the devices' readings are unknown, see `error`
  std::string error;
  std::vector<GpuReading> devices;
  TimePoint at{};
};

// Where readings come from. Implementations: NVML, nvidia-smi, the in-process fake.
class GpuSource {
 public:
  virtual ~GpuSource() = default;
  virtual std::string name() const = 0;
  // Throws nothing: a failure is a result with ok == false.
  virtual GpuQueryResult query() = 0;
};

struct NvidiaSmiOptions {
  std::filesystem::path program = "nvidia-smi";  // looked up in PATH unless it has a '/'
  std::map<std::string, std::string> env{};      // added to the environment of the program
  std::chrono::milliseconds timeout{5000};       // real time; the program is killed after it
};

// NVML through dlopen; nullptr (and `why` set) when libnvidia-ml.so.1 or a GPU is not there.
std::unique_ptr<GpuSource> nvml_source(std::string* why = nullptr);
std::unique_ptr<GpuSource> nvidia_smi_source(NvidiaSmiOptions options = {});
std::unique_ptr<GpuSource> fake_source(fakes::gpu::FakeGpuCluster& cluster);
// NVML if it loads, else nvidia-smi if it is found (options.program in PATH or as a path), else
// the fake if one is given; throws Error naming what was tried when none is available.
std::unique_ptr<GpuSource> detect_source(const NvidiaSmiOptions& smi,
                                         fakes::gpu::FakeGpuCluster* fake = nullptr);

struct GpuProbeOptions {
  std::string server = "gpu-0";  // label on alerts, metrics and journal events
  double memory_warning_percent = 80;
  double memory_critical_percent = 90;
};

class GpuProbe {
 public:
  // `journal` and `alerts` may be null.
  GpuProbe(Clock& clock, std::unique_ptr<GpuSource> source, Journal* journal = nullptr,
           ops::AlertManager* alerts = nullptr, GpuProbeOptions options = {});

  const std::string& server() const { return options_.server; }
  std::string source_name() const;

  // query_devices(): reads every device (UT-INFRA-06.1).
  GpuQueryResult query_devices();
  // gpu_health_check(): query_devices() and evaluate the alert rules on it; returns the alert
  // transitions (firing or resolved) this call produced, already submitted to the AlertManager.
  std::vector<ops::Alert> gpu_health_check();

  std::optional<GpuQueryResult> last() const;
  // The GPU exporter's view of the last reading, Prometheus families named
  // faultline_gpu_<what>_<unit> with labels server and gpu (the index).
  std::vector<ops::MetricFamily> metrics() const;

 private:
  Clock& clock_;
  std::unique_ptr<GpuSource> source_;
  Journal* journal_;
  ops::AlertManager* alerts_;
  GpuProbeOptions options_;
  std::map<int, GpuReading> known_;                  // last good reading of each device
  std::map<int, ops::RuleEvaluator> device_rules_;   // per device: memory and health rules
  std::unique_ptr<ops::RuleEvaluator> probe_rules_;  // GpuProbeFailed
  mutable std::mutex mu_;
  std::optional<GpuQueryResult> last_;
  long failures_ = 0;
};

}  // namespace faultline::clients
