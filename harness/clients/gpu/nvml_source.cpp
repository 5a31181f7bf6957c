// GpuSource over NVML, loaded at run time with dlopen("libnvidia-ml.so.1") so that faultline
// neither links against the driver nor needs its headers: the few NVML entry points used are
// declared here with the C ABI of nvml.h (stable across driver releases; the _v2 names are those
// the header maps the plain ones to).
#include <dlfcn.h>

#include <cstring>

#include "harness/clients/gpu/gpu_probe.h"

namespace faultline::clients {

namespace {

using nvmlReturn_t = int;
using nvmlDevice_t = struct nvmlDevice_st*;
constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_GPU_IS_LOST = 15;
constexpr unsigned NVML_TEMPERATURE_GPU = 0;
constexpr int NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1;
constexpr int NVML_VOLATILE_ECC = 0;
constexpr unsigned long long kThrottleHwThermal = 0x40;

struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlUtilization_t {
  unsigned int gpu, memory;
};

struct Nvml {
  void* lib = nullptr;
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*shutdown)() = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*count)(unsigned*) = nullptr;
  nvmlReturn_t (*handle)(unsigned, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*name)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*uuid)(nvmlDevice_t, char*, unsigned) = nullptr;
  nvmlReturn_t (*memory)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  nvmlReturn_t (*utilization)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*temperature)(nvmlDevice_t, unsigned, unsigned*) = nullptr;
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned*) = nullptr;
  nvmlReturn_t (*ecc)(nvmlDevice_t, int, int, unsigned long long*) = nullptr;
  nvmlReturn_t (*throttle)(nvmlDevice_t, unsigned long long*) = nullptr;
};

template <class F>
bool bind(void* lib, const char* symbol, F& out) {
  out = reinterpret_cast<F>(::dlsym(lib, symbol));
  return out != nullptr;
}

class NvmlSource final : public GpuSource {
 public:
  explicit NvmlSource(Nvml nvml) : nvml_(nvml) {}
  ~NvmlSource() override {
    nvml_.shutdown();
    ::dlclose(nvml_.lib);
  }
  std::string name() const override { return "nvml"; }

  GpuQueryResult query() override {
    GpuQueryResult result;
    result.source = name();
    unsigned n = 0;
    if (const auto rc = nvml_.count(&n); rc != NVML_SUCCESS) {
      result.error = std::string("nvmlDeviceGetCount: ") + nvml_.error_string(rc);
      return result;
    }
    for (unsigned i = 0; i < n; ++i) {
      GpuReading r;
      r.index = static_cast<int>(i);
      nvmlDevice_t dev = nullptr;
      auto rc = nvml_.handle(i, &dev);
      if (rc != NVML_SUCCESS) {
        r.health = rc == NVML_ERROR_GPU_IS_LOST ? GpuDeviceHealth::lost : GpuDeviceHealth::unknown;
        r.reason = nvml_.error_string(rc);
        result.devices.push_back(std::move(r));
        continue;
      }
      char text[96] = {};
      if (nvml_.name(dev, text, sizeof text) == NVML_SUCCESS) r.name = text;
      std::memset(text, 0, sizeof text);
      if (nvml_.uuid(dev, text, sizeof text) == NVML_SUCCESS) r.uuid = text;
      r.health = GpuDeviceHealth::healthy;
      nvmlMemory_t mem{};
      rc = nvml_.memory(dev, &mem);
      if (rc == NVML_SUCCESS) {
        r.memory_total_mib = mem.total >> 20;
        r.memory_used_mib = mem.used >> 20;
      }
      nvmlUtilization_t util{};
      if (nvml_.utilization(dev, &util) == NVML_SUCCESS) r.utilization_percent = util.gpu;
      unsigned value = 0;
      if (nvml_.temperature(dev, NVML_TEMPERATURE_GPU, &value) == NVML_SUCCESS) {
        r.temperature_c = value;
      }
      if (nvml_.power(dev, &value) == NVML_SUCCESS) r.power_draw_w = value / 1000.0;
      unsigned long long count = 0;
      if (nvml_.ecc(dev, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &count) ==
          NVML_SUCCESS) {
        r.ecc_uncorrected_volatile = count;
      }
      unsigned long long reasons = 0;
      if (nvml_.throttle(dev, &reasons) == NVML_SUCCESS) {
        r.thermal_slowdown = (reasons & kThrottleHwThermal) != 0;
      }
      if (rc == NVML_ERROR_GPU_IS_LOST) {
        r.health = GpuDeviceHealth::lost;
        r.reason = "GPU is lost";
      } else if (r.ecc_uncorrected_volatile.value_or(0) > 0) {
        r.health = GpuDeviceHealth::failed;
        r.reason = std::to_string(*r.ecc_uncorrected_volatile) + " uncorrectable ECC error(s)";
      } else if (r.thermal_slowdown.value_or(false)) {
        r.health = GpuDeviceHealth::degraded;
        r.reason = "hardware thermal slowdown";
      }
      result.devices.push_back(std::move(r));
    }
    result.ok = true;
    return result;
  }

 private:
  Nvml nvml_;
};

}  // namespace

std::unique_ptr<GpuSource> nvml_source(std::string* why) {
  auto fail = [why](std::string reason) -> std::unique_ptr<GpuSource> {
    if (why != nullptr) *why = std::move(reason);
    return nullptr;
  };
  void* lib = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* err = ::dlerror();
    return fail(std::string("libnvidia-ml.so.1 cannot be loaded: ") + (err ? err : "unknown"));
  }
  Nvml n;
  n.lib = lib;
  const bool bound =
      bind(lib, "nvmlInit_v2", n.init) && bind(lib, "nvmlShutdown", n.shutdown) &&
      bind(lib, "nvmlErrorString", n.error_string) && bind(lib, "nvmlDeviceGetCount_v2", n.count) &&
      bind(lib, "nvmlDeviceGetHandleByIndex_v2", n.handle) &&
      bind(lib, "nvmlDeviceGetName", n.name) && bind(lib, "nvmlDeviceGetUUID", n.uuid) &&
      bind(lib, "nvmlDeviceGetMemoryInfo", n.memory) &&
      bind(lib, "nvmlDeviceGetUtilizationRates", n.utilization) &&
      bind(lib, "nvmlDeviceGetTemperature", n.temperature) &&
      bind(lib, "nvmlDeviceGetPowerUsage", n.power) &&
      bind(lib, "nvmlDeviceGetTotalEccErrors", n.ecc) &&
      bind(lib, "nvmlDeviceGetCurrentClocksThrottleReasons", n.throttle);
  if (!bound) {
    ::dlclose(lib);
    return fail("libnvidia-ml.so.1 lacks an NVML entry point faultline uses");
  }
  if (const auto rc = n.init(); rc != NVML_SUCCESS) {
    const std::string reason = std::string("nvmlInit: ") + n.error_string(rc);
    ::dlclose(lib);
    return fail(reason);
  }
  unsigned count = 0;
  if (n.count(&count) != NVML_SUCCESS || count == 0) {
    n.shutdown();
    ::dlclose(lib);
    return fail("NVML loaded but reports no GPU");
  }
  return std::make_unique<NvmlSource>(n);
}

}  // namespace faultline::clients
