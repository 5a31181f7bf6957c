// The fake backend's gpu service: a FakeGpuCluster (fakes/gpu) of N devices with its state file
// for the fake nvidia-smi and its loopback control endpoint, behind a ServiceHandle whose hooks
// are the device model's hardware faults. The local backend runs the same when NVML finds no GPU.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "fakes/gpu/control_http.h"
#include "fakes/gpu/fake_gpu_paths.h"  // generated: where this build puts the fake nvidia-smi
#include "fakes/gpu/gpu_model.h"
#include "harness/backends/fake_services.h"
#include "harness/backends/hook_fault.h"
#include "harness/backends/hooks.h"
#include "harness/stack/values.h"

namespace faultline::backends {
namespace {

using fakes::gpu::FakeGpuCluster;
using fakes::gpu::GpuControlEndpoint;
using fakes::gpu::GpuFault;
using fakes::gpu::SmiMode;

class FakeGpuHandle final : public FakeHandle {
 public:
  FakeGpuHandle(std::shared_ptr<FakeGpuInstance> gpu, std::string source_note)
      : gpu_(std::move(gpu)) {
    const int port = gpu_->control->port();
    const std::string state = gpu_->cluster->options().state_file.string();
    endpoint_.host = "127.0.0.1";
    endpoint_.port = port;
    endpoint_.url = "http://127.0.0.1:" + std::to_string(port);
    endpoint_.exports["FAULTLINE_FAKE_GPU_STATE"] = state;
    endpoint_.exports["FAULTLINE_FAKE_NVIDIA_SMI"] = fake_nvidia_smi_path();
    endpoint_.exports["GPU_CONTROL_URL"] = endpoint_.url + "/faults";
    endpoint_.exports["GPU_SOURCE"] = "fake";
    note_ = std::move(source_note);
  }
  ~FakeGpuHandle() override { gpu_->control->stop(); }

  // The server answers while its control endpoint serves and its state file is there; a lost or
  // failed device is the scheduler's business, not a reason to restart the server.
  stack::ProbeResult probe() override {
    if (!serving()) return {false, "the fake has exited"};
    const auto state = gpu_->cluster->options().state_file;
    struct stat st {};
    if (::stat(state.c_str(), &st) != 0) return {false, "no state file at " + state.string()};
    std::ostringstream detail;
    detail << note_ << ": ";
    const auto snap = gpu_->cluster->snapshot();
    for (const auto& d : snap.devices)
      detail << (d.index ? ", " : "") << "CUDA:" << d.index << " " << to_string(d.health);
    return {true, detail.str()};
  }
  void stop(std::chrono::milliseconds) override {
    gpu_->control->stop();
    mark_stopped();
  }
  std::set<std::string> hooks() const override {
    return {hook::kXid, hook::kThermal, hook::kGpuMemoryExhausted, hook::kUtilizationStuck,
            hook::kSmiFailure};
  }
  std::unique_ptr<stack::HookFault> apply_hook(const std::string& name,
                                               const nlohmann::json& args) override {
    auto cluster = gpu_->cluster;
    if (name == hook::kXid) {
      const int code = static_cast<int>(hook_int(name, args, "code", 79, 0));
      if (code != 79 && code != 48)
        throw UsageError("hook 'xid': code " + std::to_string(code) +
                         " is not one the fake GPU models (79: fell off the bus, 48: double-bit "
                         "ECC error)");
      return device_fault(name, args,
                          code == 79 ? GpuFault::fell_off_bus : GpuFault::double_bit_ecc);
    }
    if (name == hook::kThermal) return device_fault(name, args, GpuFault::thermal_throttle);
    if (name == hook::kGpuMemoryExhausted)
      return device_fault(name, args, GpuFault::memory_exhausted);
    if (name == hook::kUtilizationStuck) {
      const auto percent = hook_int(name, args, "percent", 0, 0);
      if (percent != 0 && percent != 100)
        throw UsageError("hook 'utilization-stuck': percent must be 0 or 100");
      return device_fault(
          name, args,
          percent == 0 ? GpuFault::utilization_stuck_zero : GpuFault::utilization_stuck_full);
    }
    if (name == hook::kSmiFailure) {
      std::string mode = hook_string(name, args, "mode", "hang");
      for (auto& c : mode)
        if (c == '-') c = '_';
      const auto m = fakes::gpu::smi_mode_from_string(mode);
      if (!m || *m == SmiMode::normal)
        throw UsageError("hook 'smi-failure': mode '" + mode +
                         "' is not one of hang, malformed, driver-missing");
      cluster->set_smi_mode(*m);
      return std::make_unique<CallbackHookFault>(
          [cluster] { cluster->set_smi_mode(SmiMode::normal); });
    }
    return FakeHandle::apply_hook(name, args);
  }

 private:
  // A device fault from {"device": N}; heal is the device's reset of that fault.
  std::unique_ptr<stack::HookFault> device_fault(const std::string& name,
                                                 const nlohmann::json& args, GpuFault fault) {
    auto cluster = gpu_->cluster;
    const int device = static_cast<int>(hook_int(name, args, "device", std::nullopt, 0));
    if (device >= cluster->device_count())
      throw UsageError("hook '" + name + "': no device " + std::to_string(device) + " (0.." +
                       std::to_string(cluster->device_count() - 1) + ")");
    cluster->inject(device, fault);
    return std::make_unique<CallbackHookFault>(
        [cluster, device, fault] { cluster->heal(device, fault); });
  }

  std::shared_ptr<FakeGpuInstance> gpu_;
  std::string note_;
};

}  // namespace

std::string fake_nvidia_smi_path() {
  const char* env = std::getenv("FAULTLINE_FAKE_NVIDIA_SMI");
  return (env != nullptr && *env != '\0') ? env : FAULTLINE_FAKE_NVIDIA_SMI_PATH;
}

std::shared_ptr<FakeGpuInstance> make_fake_gpu(EventLoop& loop, Clock& clock,
                                               const stack::Service& service,
                                               const std::filesystem::path& dir, std::uint16_t port,
                                               std::uint64_t seed) {
  fakes::gpu::FakeGpuOptions o;
  o.host = service.name;
  try {
    o.devices = std::stoi(service.setting("devices", "2"));
  } catch (const std::exception&) {
    throw Error(service.name + ": settings.devices '" + service.setting("devices") +
                "' is not a number");
  }
  if (auto mem = service.setting("memory"); !mem.empty()) {
    const auto bytes = stack::parse_size(mem);
    if (!bytes || *bytes < (1ULL << 30))
      throw Error(service.name + ": settings.memory '" + mem + "' is not a size of 1g or more");
    o.memory_total_mib = *bytes >> 20;
  }
  o.seed = seed;
  std::filesystem::create_directories(dir);
  o.state_file = dir / "gpu-state.json";
  auto out = std::make_shared<FakeGpuInstance>();
  out->cluster = std::make_shared<FakeGpuCluster>(clock, o);  // InputError for a bad count
  out->control = std::make_shared<GpuControlEndpoint>(loop, *out->cluster, "127.0.0.1", port);
  out->control->start();
  return out;
}

void restart_fake_gpu(FakeGpuInstance& gpu) {
  gpu.cluster->heal_all();  // a rebooted server comes back without the last one's faults
  gpu.control->start();
}

std::unique_ptr<stack::ServiceHandle> make_fake_gpu_handle(std::shared_ptr<FakeGpuInstance> gpu,
                                                           const stack::Service&,
                                                           std::string source_note) {
  return std::make_unique<FakeGpuHandle>(std::move(gpu), std::move(source_note));
}

}  // namespace faultline::backends
