// GpuScheduler: placement, memory fit, moves with checkpoints, pending jobs, journal and alerts.
#include <gtest/gtest.h>

#include "fakes/gpu/gpu_model.h"
#include "harness/clients/gpu/gpu_scheduler.h"
#include "harness/core/error.h"

namespace faultline::clients {
namespace {

using fakes::gpu::FakeGpuCluster;
using fakes::gpu::GpuFault;

struct TwoServers {
  ManualClock clock;
  Journal journal{clock};
  ops::AlertManager alerts{clock, &journal};
  FakeGpuCluster a{
      clock, {.host = "gpu-a", .devices = 2, .memory_total_mib = 1000, .memory_reserved_mib = 10}};
  FakeGpuCluster b{
      clock, {.host = "gpu-b", .devices = 2, .memory_total_mib = 1000, .memory_reserved_mib = 10}};
  GpuProbe probe_a{clock, fake_source(a), &journal, &alerts, {.server = "gpu-a"}};
  GpuProbe probe_b{clock, fake_source(b), &journal, &alerts, {.server = "gpu-b"}};
  GpuScheduler scheduler{clock, &journal, &alerts};
  TwoServers() {
    scheduler.add_server(probe_a);
    scheduler.add_server(probe_b);
  }
};

TEST(GpuScheduler, SpreadsJobsOverThePrimaryFirst) {
  TwoServers t;
  EXPECT_EQ(t.scheduler.submit({"j1", 100})->str(), "gpu-a/CUDA:0");
  EXPECT_EQ(t.scheduler.submit({"j2", 100})->str(), "gpu-a/CUDA:1");
  EXPECT_EQ(t.scheduler.submit({"j3", 100})->str(), "gpu-a/CUDA:0");
  EXPECT_EQ(t.scheduler.jobs_on({"gpu-a", 0}), (std::vector<std::string>{"j1", "j3"}));
  EXPECT_THROW(t.scheduler.submit({"j1", 1}), InputError);
  EXPECT_THROW(t.scheduler.submit({"", 1}), InputError);
  EXPECT_THROW(t.scheduler.add_server(t.probe_a), InputError);
}

TEST(GpuScheduler, MemoryDecidesWhatFits) {
  TwoServers t;
  EXPECT_EQ(t.scheduler.submit({"big0", 900})->str(), "gpu-a/CUDA:0");
  EXPECT_EQ(t.scheduler.submit({"big1", 900})->str(), "gpu-a/CUDA:1");
  EXPECT_EQ(t.scheduler.submit({"big2", 900})->str(), "gpu-b/CUDA:0");
  EXPECT_EQ(t.scheduler.submit({"big3", 900})->str(), "gpu-b/CUDA:1");
  EXPECT_FALSE(t.scheduler.submit({"big4", 900}));
  EXPECT_EQ(t.scheduler.pending(), std::vector<std::string>{"big4"});
  t.scheduler.complete("big1");  // frees gpu-a/CUDA:1 and the pending job takes it
  EXPECT_EQ(t.scheduler.job("big4")->device->str(), "gpu-a/CUDA:1");
  EXPECT_TRUE(t.scheduler.pending().empty());
}

TEST(GpuScheduler, MovesJobsOffAFailedDeviceFromTheirCheckpoint) {
  TwoServers t;
  t.scheduler.submit({"j1", 100});
  t.scheduler.checkpoint("j1", 42);
  std::vector<GpuJobMove> seen;
  t.scheduler.set_listener([&seen](const GpuJobMove& m) { seen.push_back(m); });
  t.a.inject(0, GpuFault::double_bit_ecc);
  const auto moves = t.scheduler.job_scheduler();
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].from->str(), "gpu-a/CUDA:0");
  EXPECT_EQ(moves[0].to->str(), "gpu-a/CUDA:1");
  EXPECT_EQ(moves[0].resume_from, 42u);
  EXPECT_FALSE(moves[0].failover);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(t.scheduler.device_health({"gpu-a", 0}), GpuDeviceHealth::failed);
  EXPECT_EQ(t.scheduler.job("j1")->moves, 1);
  // The device comes back: nothing moves back, but it takes new jobs again.
  t.a.heal_device(0);
  EXPECT_TRUE(t.scheduler.job_scheduler().empty());
  EXPECT_EQ(t.scheduler.submit({"j2", 100})->str(), "gpu-a/CUDA:0");
  EXPECT_THROW(t.scheduler.checkpoint("nope", 1), InputError);
  t.scheduler.complete("j1");
  EXPECT_THROW(t.scheduler.checkpoint("j1", 1), InputError);
  EXPECT_EQ(t.scheduler.job("j1")->state, GpuJobState::completed);
}

TEST(GpuScheduler, DegradedAndUnknownDevicesKeepTheirJobsButGetNoNewOnes) {
  TwoServers t;
  t.scheduler.submit({"j1", 100});
  t.a.inject(0, GpuFault::thermal_throttle);
  EXPECT_TRUE(t.scheduler.job_scheduler().empty());
  EXPECT_EQ(t.scheduler.job("j1")->device->str(), "gpu-a/CUDA:0");
  EXPECT_EQ(t.scheduler.submit({"j2", 100})->str(), "gpu-a/CUDA:1");
  EXPECT_EQ(t.scheduler.submit({"j3", 100})->str(), "gpu-a/CUDA:1");
}

TEST(GpuScheduler, ReportsWhenNoHealthyDeviceIsLeft) {
  TwoServers t;
  t.scheduler.submit({"j1", 100});
  for (int i = 0; i < 2; ++i) {
    t.a.inject(i, GpuFault::fell_off_bus);
    t.b.inject(i, GpuFault::double_bit_ecc);
  }
  const auto moves = t.scheduler.job_scheduler();
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_FALSE(moves[0].to);
  EXPECT_EQ(t.scheduler.pending(), std::vector<std::string>{"j1"});
  bool alerted = false, journaled = false;
  for (const auto& e : t.journal.events()) {
    alerted = alerted || (e.kind == "alert.delivered" && e.subject == "GpuNoHealthyDevice");
    journaled = journaled || e.kind == "gpu.job.pending";
  }
  EXPECT_TRUE(alerted);
  EXPECT_TRUE(journaled);
  EXPECT_GE(t.alerts.counts().delivered, 1);
  t.b.heal_device(1);
  const auto back = t.scheduler.job_scheduler();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].to->str(), "gpu-b/CUDA:1");
  EXPECT_TRUE(t.scheduler.pending().empty());
}

TEST(GpuScheduler, ExplicitFailoverAndRestore) {
  TwoServers t;
  t.scheduler.submit({"j1", 100});
  t.scheduler.submit({"j2", 100});
  const auto moves = t.scheduler.failover_to_secondary("gpu-a");
  ASSERT_EQ(moves.size(), 2u);
  for (const auto& m : moves) {
    EXPECT_TRUE(m.failover);
    EXPECT_EQ(m.to->server, "gpu-b");
  }
  EXPECT_EQ(t.scheduler.submit({"j3", 100})->server, "gpu-b");
  t.scheduler.restore_server("gpu-a");
  EXPECT_EQ(t.scheduler.submit({"j4", 100})->server, "gpu-a");
  EXPECT_THROW(t.scheduler.failover_to_secondary("gpu-z"), InputError);
}

}  // namespace
}  // namespace faultline::clients
