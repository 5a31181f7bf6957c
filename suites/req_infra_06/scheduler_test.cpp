// REQ-INFRA-06: job_scheduler() moves jobs off a device reporting a hardware fault, and
// failover_to_secondary() resumes a failed server's jobs on the second server from their last
// checkpoint. Both servers are read through the fake nvidia-smi program.
#include <gtest/gtest.h>

#include "harness/clients/gpu/gpu_scheduler.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_06/fake_gpu_server.h"

namespace faultline::req_infra_06 {
namespace {

using clients::GpuDeviceHealth;
using clients::GpuDeviceRef;
using fakes::gpu::GpuFault;

struct TwoGpuServers {
  ManualClock clock;
  Journal journal{clock};
  ops::AlertManager alerts{clock, &journal};
  FakeGpuServer a{clock, "gpu-a"}, b{clock, "gpu-b"};
  clients::GpuProbe probe_a{
      clock, clients::nvidia_smi_source(a.smi()), &journal, &alerts, {.server = "gpu-a"}};
  clients::GpuProbe probe_b{
      clock, clients::nvidia_smi_source(b.smi()), &journal, &alerts, {.server = "gpu-b"}};
  clients::GpuScheduler scheduler{clock, &journal, &alerts};
  TwoGpuServers() {
    scheduler.add_server(probe_a);
    scheduler.add_server(probe_b);
  }
  int journaled(const std::string& kind) const {
    int n = 0;
    for (const auto& e : journal.events()) n += e.kind == kind ? 1 : 0;
    return n;
  }
};

class HardwareFault : public ::testing::TestWithParam<GpuFault> {};

TEST_P(HardwareFault, MarksTheDeviceUnhealthyAndMovesItsJobsToAHealthyOne) {
  FAULTLINE_COVERS("UT-INFRA-06.3");
  TwoGpuServers t;
  t.scheduler.submit({"train-1", 8000});  // gpu-a/CUDA:0
  t.scheduler.submit({"train-2", 8000});  // gpu-a/CUDA:1
  t.scheduler.submit({"train-3", 8000});  // gpu-a/CUDA:0
  t.scheduler.checkpoint("train-1", 120);
  t.a.cluster.inject(0, GetParam());
  const auto moves = t.scheduler.job_scheduler();
  EXPECT_TRUE(clients::is_hardware_failure(t.scheduler.device_health({"gpu-a", 0})));
  ASSERT_EQ(moves.size(), 2u);
  for (const auto& m : moves) {
    EXPECT_EQ(m.from->str(), "gpu-a/CUDA:0");
    EXPECT_EQ(m.to->str(), "gpu-a/CUDA:1");  // a healthy device of the same server
  }
  EXPECT_EQ(moves[0].resume_from, 120u);
  EXPECT_TRUE(t.scheduler.jobs_on({"gpu-a", 0}).empty());
  EXPECT_EQ(t.scheduler.jobs_on({"gpu-a", 1}).size(), 3u);
  EXPECT_EQ(t.journaled("gpu.job.move"), 2);
  EXPECT_GE(t.alerts.counts().delivered, 1);  // GpuJobsRescheduled
  // No new job goes to the failed device.
  EXPECT_EQ(t.scheduler.submit({"train-4", 1000})->str(), "gpu-a/CUDA:1");
}

INSTANTIATE_TEST_SUITE_P(XidEccLost, HardwareFault,
                         ::testing::Values(GpuFault::double_bit_ecc, GpuFault::fell_off_bus),
                         [](const auto& info) {
                           return std::string(fakes::gpu::to_string(info.param));
                         });

TEST(FailoverToSecondary, ResumesThePrimarysJobsOnTheSecondServerFromTheirCheckpoints) {
  FAULTLINE_COVERS("ET-INFRA-06.1");
  TwoGpuServers t;
  for (int i = 0; i < 4; ++i) t.scheduler.submit({"train-" + std::to_string(i), 8000});
  for (int i = 0; i < 4; ++i) t.scheduler.checkpoint("train-" + std::to_string(i), 100 + i);
  for (const auto& j : t.scheduler.jobs()) EXPECT_EQ(j.device->server, "gpu-a");
  // Every device of the primary fails: one falls off the bus, the other takes a double-bit error.
  t.a.cluster.inject(0, GpuFault::fell_off_bus);
  t.a.cluster.inject(1, GpuFault::double_bit_ecc);
  const auto moves = t.scheduler.job_scheduler();
  ASSERT_EQ(moves.size(), 4u);
  for (const auto& m : moves) {
    EXPECT_TRUE(m.failover);
    EXPECT_EQ(m.to->server, "gpu-b");
    EXPECT_EQ(m.resume_from, 100u + std::stoul(m.job.substr(6)));
  }
  for (const auto& j : t.scheduler.jobs()) {
    EXPECT_EQ(j.state, clients::GpuJobState::running);
    EXPECT_EQ(j.device->server, "gpu-b");
  }
  EXPECT_EQ(t.journaled("gpu.server.failover"), 1);
  // The primary stays out until one of its devices is back.
  EXPECT_EQ(t.scheduler.submit({"late", 1000})->server, "gpu-b");
  t.a.cluster.heal_device(1);
  EXPECT_TRUE(t.scheduler.job_scheduler().empty());  // running jobs do not move back
  EXPECT_EQ(t.scheduler.submit({"later", 1000})->str(), "gpu-a/CUDA:1");
}

TEST(FailoverToSecondary, ExplicitFailoverOfAHealthyPrimary) {
  FAULTLINE_COVERS("ET-INFRA-06.1");
  TwoGpuServers t;
  t.scheduler.submit({"a", 1000});
  t.scheduler.checkpoint("a", 7);
  const auto moves = t.scheduler.failover_to_secondary("gpu-a");
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].to->server, "gpu-b");
  EXPECT_EQ(moves[0].resume_from, 7u);
  EXPECT_TRUE(t.scheduler.job_scheduler().empty());  // stays on gpu-b
  EXPECT_EQ(t.scheduler.job("a")->device->server, "gpu-b");
}

}  // namespace
}  // namespace faultline::req_infra_06
