// REQ-INFRA-06: gpu_health_check() alerts on device memory (warning above 80 %, critical above
// 90 %, seed 003) and on a failed device; the AlertManager delivers them.
#include <gtest/gtest.h>

#include "fakes/gpu/gpu_model.h"
#include "harness/clients/gpu/gpu_probe.h"
#include "harness/testing/covers.h"

namespace faultline::req_infra_06 {
namespace {

using fakes::gpu::FakeGpuCluster;

std::vector<std::string> firing(const std::vector<ops::Alert>& alerts) {
  std::vector<std::string> out;
  for (const auto& a : alerts) {
    out.push_back(a.rule + (a.resolved ? ":resolved" : "") + "@" + a.labels.at("gpu"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(GpuHealthCheck, WarnsAbove80AndIsCriticalAbove90PercentMemory) {
  FAULTLINE_COVERS("UT-INFRA-06.2");
  ManualClock clock;
  Journal journal(clock);
  ops::AlertManager manager(clock, &journal);
  FakeGpuCluster gpus(
      clock, {.host = "gpu-a", .devices = 2, .memory_total_mib = 10000, .memory_reserved_mib = 0});
  clients::GpuProbe probe(clock, clients::fake_source(gpus), &journal, &manager,
                          {.server = "gpu-a"});
  gpus.set_load(0, 50, 8000);  // exactly 80 %: not above
  gpus.set_load(1, 50, 1000);
  EXPECT_TRUE(probe.gpu_health_check().empty());

  gpus.set_load(0, 50, 8001);
  auto alerts = probe.gpu_health_check();
  EXPECT_EQ(firing(alerts), std::vector<std::string>{"GpuMemoryHigh@CUDA:0"});
  EXPECT_EQ(alerts[0].severity, ops::Severity::warning);
  EXPECT_EQ(alerts[0].labels.at("server"), "gpu-a");

  gpus.set_load(0, 50, 9500);
  alerts = probe.gpu_health_check();
  EXPECT_EQ(firing(alerts), std::vector<std::string>{"GpuMemoryCritical@CUDA:0"});
  EXPECT_EQ(alerts[0].severity, ops::Severity::critical);

  gpus.set_load(0, 50, 1000);
  EXPECT_EQ(firing(probe.gpu_health_check()),
            (std::vector<std::string>{"GpuMemoryCritical:resolved@CUDA:0",
                                      "GpuMemoryHigh:resolved@CUDA:0"}));
  EXPECT_EQ(manager.counts().delivered, 2);
}

TEST(GpuHealthCheck, ExhaustedMemoryAndFailedDevicesAreCritical) {
  FAULTLINE_COVERS("UT-INFRA-06.2");
  ManualClock clock;
  ops::AlertManager manager(clock);
  FakeGpuCluster gpus(clock, {.host = "gpu-a", .devices = 2});
  clients::GpuProbe probe(clock, clients::fake_source(gpus), nullptr, &manager,
                          {.server = "gpu-a"});
  EXPECT_TRUE(probe.gpu_health_check().empty());
  gpus.inject(0, fakes::gpu::GpuFault::memory_exhausted);
  gpus.inject(1, fakes::gpu::GpuFault::fell_off_bus);
  EXPECT_EQ(firing(probe.gpu_health_check()),
            (std::vector<std::string>{"GpuDeviceUnhealthy@CUDA:1", "GpuMemoryCritical@CUDA:0",
                                      "GpuMemoryHigh@CUDA:0"}));
  EXPECT_EQ(manager.counts().delivered, 3);
}

}  // namespace
}  // namespace faultline::req_infra_06
