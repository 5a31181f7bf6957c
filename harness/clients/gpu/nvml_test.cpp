// NVML through dlopen: runs where libnvidia-ml.so.1 and a GPU exist, skips with the reason
// elsewhere (as on every machine without an NVIDIA driver).
#include <gtest/gtest.h>

#include "fakes/gpu/gpu_model.h"
#include "harness/clients/gpu/gpu_probe.h"
#include "harness/core/error.h"

namespace faultline::clients {
namespace {

TEST(Nvml, ReadsEveryDeviceWhereTheDriverIsPresent) {
  std::string why;
  auto source = nvml_source(&why);
  if (!source) GTEST_SKIP() << "no NVML here: " << why;
  const auto result = source->query();
  ASSERT_TRUE(result.ok) << result.error;
  ASSERT_FALSE(result.devices.empty());
  for (const auto& d : result.devices) {
    EXPECT_GE(d.index, 0);
    EXPECT_EQ(d.uuid.rfind("GPU-", 0), 0u) << d.uuid;
    ASSERT_TRUE(d.memory_total_mib);
    ASSERT_TRUE(d.memory_used_mib);
    EXPECT_LE(*d.memory_used_mib, *d.memory_total_mib);
    if (d.utilization_percent) {
      EXPECT_GE(*d.utilization_percent, 0);
      EXPECT_LE(*d.utilization_percent, 100);
    }
  }
}

TEST(Nvml, DetectionFallsBackWhenNvmlIsAbsent) {
  std::string why;
  if (nvml_source(&why)) GTEST_SKIP() << "NVML is present here; the fallback is not taken";
  EXPECT_FALSE(why.empty());
  ManualClock clock;
  fakes::gpu::FakeGpuCluster fake(clock, {.devices = 1});
  NvidiaSmiOptions smi;
  smi.program = "faultline-no-such-nvidia-smi";
  auto source = detect_source(smi, &fake);
  EXPECT_EQ(source->name(), "fake");
  EXPECT_THROW(detect_source(smi, nullptr), Error);
}

}  // namespace
}  // namespace faultline::clients
