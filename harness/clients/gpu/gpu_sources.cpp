// The nvidia-smi and fake sources of GpuProbe, and detect_source (see gpu_probe.h).
#include <sstream>

#include "fakes/gpu/gpu_model.h"
#include "harness/clients/gpu/command_capture.h"
#include "harness/clients/gpu/gpu_probe.h"
#include "harness/clients/gpu/smi_parse.h"
#include "harness/core/error.h"

namespace faultline::clients {

namespace {

std::string first_line(const std::string& text) {
  const auto nl = text.find('\n');
  return text.substr(0, nl);
}

class NvidiaSmiSource final : public GpuSource {
 public:
  explicit NvidiaSmiSource(NvidiaSmiOptions options) : options_(std::move(options)) {}
  std::string name() const override { return "nvidia-smi"; }

  GpuQueryResult query() override {
    GpuQueryResult result;
    result.source = name();
    const CapturedRun run = run_captured(
        {options_.program.string(), smi_query_argument(), "--format=csv,noheader,nounits"},
        options_.env, options_.timeout);
    if (!run.started) {
      result.error = run.error;
      return result;
    }
    if (run.timed_out) {
      result.error = "nvidia-smi did not answer within " +
                     std::to_string(options_.timeout.count()) + " ms (killed)";
      return result;
    }
    if (run.signal != 0) {
      result.error = "nvidia-smi was killed by signal " + std::to_string(run.signal);
      return result;
    }
    // 0: every device answered; 15: some fell off the bus, the others still answered.
    if (run.exit_code != 0 && run.exit_code != 15) {
      result.error = "nvidia-smi exited " + std::to_string(run.exit_code) + ": " +
                     first_line(run.out.empty() ? run.err : run.out);
      return result;
    }
    try {
      const SmiQueryParse parsed = parse_smi_query(run.out);
      result.devices = parsed.devices;
      for (const auto& bus : parsed.lost_bus_ids) {
        GpuReading lost;
        lost.pci_bus_id = bus;
        lost.health = GpuDeviceHealth::lost;
        lost.reason = "GPU is lost (fell off the bus)";
        result.devices.push_back(std::move(lost));
      }
      result.ok = true;
    } catch (const Error& e) {
      result.error = std::string("malformed output: ") + e.what();
      result.devices.clear();
    }
    return result;
  }

 private:
  NvidiaSmiOptions options_;
};

GpuDeviceHealth from_fake(fakes::gpu::GpuHealth h) {
  switch (h) {
    case fakes::gpu::GpuHealth::healthy:
      return GpuDeviceHealth::healthy;
    case fakes::gpu::GpuHealth::degraded:
      return GpuDeviceHealth::degraded;
    case fakes::gpu::GpuHealth::failed:
      return GpuDeviceHealth::failed;
    case fakes::gpu::GpuHealth::lost:
      return GpuDeviceHealth::lost;
  }
  return GpuDeviceHealth::unknown;
}

// Reads the model directly, as NVML would: lost devices answer nothing but their identity.
class FakeSource final : public GpuSource {
 public:
  explicit FakeSource(fakes::gpu::FakeGpuCluster& cluster) : cluster_(cluster) {}
  std::string name() const override { return "fake"; }

  GpuQueryResult query() override {
    GpuQueryResult result;
    result.source = name();
    const auto state = cluster_.snapshot();
    if (state.smi_mode == fakes::gpu::SmiMode::driver_missing) {
      result.error = "driver not loaded (fake)";
      return result;
    }
    for (const auto& d : state.devices) {
      GpuReading r;
      r.index = d.index;
      r.name = d.name;
      r.uuid = d.uuid;
      r.pci_bus_id = d.pci_bus_id;
      r.health = from_fake(d.health);
      for (const auto& x : d.xid_events) r.xid_events.push_back(x.code);
      if (d.health != fakes::gpu::GpuHealth::lost) {
        r.memory_total_mib = d.memory_total_mib;
        r.memory_used_mib = d.memory_used_mib;
        r.utilization_percent = d.utilization_gpu;
        r.temperature_c = d.temperature_c;
        r.power_draw_w = d.power_draw_w;
        r.ecc_uncorrected_volatile = d.ecc_uncorrected_volatile;
        r.thermal_slowdown = d.hw_thermal_slowdown;
      }
      std::string faults;
      for (const auto f : d.faults)
        faults += (faults.empty() ? "" : ",") + std::string(to_string(f));
      if (!faults.empty()) r.reason = faults;
      result.devices.push_back(std::move(r));
    }
    result.ok = true;
    return result;
  }

 private:
  fakes::gpu::FakeGpuCluster& cluster_;
};

}  // namespace

std::unique_ptr<GpuSource> nvidia_smi_source(NvidiaSmiOptions options) {
  return std::make_unique<NvidiaSmiSource>(std::move(options));
}

std::unique_ptr<GpuSource> fake_source(fakes::gpu::FakeGpuCluster& cluster) {
  return std::make_unique<FakeSource>(cluster);
}

std::unique_ptr<GpuSource> detect_source(const NvidiaSmiOptions& smi,
                                         fakes::gpu::FakeGpuCluster* fake) {
  std::string nvml_why;
  if (auto nvml = nvml_source(&nvml_why)) return nvml;
  std::string path_env;
  if (auto it = smi.env.find("PATH"); it != smi.env.end()) {
    path_env = it->second;
  } else if (const char* p = std::getenv("PATH")) {
    path_env = p;
  }
  if (!resolve_program(smi.program.string(), path_env).empty()) return nvidia_smi_source(smi);
  if (fake != nullptr) return fake_source(*fake);
  throw Error("no GPU source: NVML: " + nvml_why + "; nvidia-smi: '" + smi.program.string() +
              "' not found; and no fake given");
}

}  // namespace faultline::clients
