// FakeGpuCluster: readings, faults and their healing on the harness clock, the state file.
#include <fstream>

#include <gtest/gtest.h>

#include "fakes/gpu/gpu_model.h"
#include "harness/core/error.h"
#include "harness/testing/process_testing.h"

namespace faultline::fakes::gpu {
namespace {

TEST(FakeGpuCluster, DevicesHaveStableIdentities) {
  ManualClock clock;
  FakeGpuCluster a(clock, {.host = "gpu-a", .devices = 2, .seed = 7});
  FakeGpuCluster b(clock, {.host = "gpu-a", .devices = 2, .seed = 7});
  FakeGpuCluster c(clock, {.host = "gpu-b", .devices = 2, .seed = 7});
  const auto sa = a.snapshot(), sb = b.snapshot(), sc = c.snapshot();
  ASSERT_EQ(sa.devices.size(), 2u);
  EXPECT_EQ(sa.devices[0].uuid, sb.devices[0].uuid);
  EXPECT_NE(sa.devices[0].uuid, sa.devices[1].uuid);
  EXPECT_NE(sa.devices[0].uuid, sc.devices[0].uuid);
  EXPECT_EQ(sa.devices[0].uuid.size(),
            std::string("GPU-12345678-1234-1234-1234-123456789012").size());
  EXPECT_EQ(sa.devices[1].pci_bus_id, "00000000:17:00.0");
  EXPECT_EQ(sa.devices[0].health, GpuHealth::healthy);
}

TEST(FakeGpuCluster, RejectsBadOptions) {
  ManualClock clock;
  EXPECT_THROW(FakeGpuCluster(clock, {.devices = 0}), InputError);
  EXPECT_THROW(FakeGpuCluster(clock, {.devices = 17}), InputError);
  EXPECT_THROW(FakeGpuCluster(clock, {.memory_total_mib = 0}), InputError);
  FakeGpuCluster ok(clock, {.devices = 2});
  EXPECT_THROW(ok.set_load(2, 10, 10), InputError);
  EXPECT_THROW(ok.inject(-1, GpuFault::fell_off_bus), InputError);
}

TEST(FakeGpuCluster, LoadDrivesReadings) {
  ManualClock clock;
  FakeGpuCluster cluster(clock,
                         {.devices = 1, .memory_total_mib = 1000, .memory_reserved_mib = 100});
  cluster.set_load(0, 150, 5000);  // clamped
  auto d = cluster.device(0);
  EXPECT_EQ(d.utilization_gpu, 100);
  EXPECT_EQ(d.memory_used_mib, 900u);
  EXPECT_EQ(d.memory_free_mib(), 0u);
  EXPECT_GT(d.temperature_c, 31);
  EXPECT_DOUBLE_EQ(d.power_draw_w, 250.0);
  cluster.set_load(0, 0, 0);
  EXPECT_TRUE(cluster.allocate(0, 800));
  EXPECT_FALSE(cluster.allocate(0, 200));  // 800 + 200 > 900 usable
  cluster.release(0, 300);
  EXPECT_EQ(cluster.device(0).memory_used_mib, 500u);
  cluster.release(0, 9999);
  EXPECT_EQ(cluster.device(0).memory_used_mib, 0u);
}

TEST(FakeGpuCluster, XidFaultsAreRecordedOnTheClock) {
  ManualClock clock;
  FakeGpuCluster cluster(clock, {.devices = 2});
  clock.advance(std::chrono::seconds(5));
  cluster.inject(0, GpuFault::double_bit_ecc);
  cluster.inject(1, GpuFault::fell_off_bus);
  cluster.inject(1, GpuFault::fell_off_bus);  // already active: no second event
  const auto s = cluster.snapshot();
  EXPECT_EQ(s.devices[0].health, GpuHealth::failed);
  EXPECT_EQ(s.devices[0].ecc_uncorrected_volatile, 1u);
  ASSERT_EQ(s.devices[0].xid_events.size(), 1u);
  EXPECT_EQ(s.devices[0].xid_events[0].code, 48);
  EXPECT_EQ(s.devices[0].xid_events[0].at_ns,
            std::chrono::nanoseconds(std::chrono::seconds(5)).count());
  EXPECT_EQ(s.devices[1].health, GpuHealth::lost);
  ASSERT_EQ(s.devices[1].xid_events.size(), 1u);
  EXPECT_EQ(s.devices[1].xid_events[0].code, 79);
  EXPECT_FALSE(cluster.allocate(1, 1));
  EXPECT_FALSE(cluster.allocate(0, 1));

  cluster.heal(0, GpuFault::double_bit_ecc);
  const auto healed = cluster.device(0);
  EXPECT_EQ(healed.health, GpuHealth::healthy);
  EXPECT_EQ(healed.ecc_uncorrected_volatile, 0u);   // volatile counters restart with the reset
  EXPECT_EQ(healed.ecc_uncorrected_aggregate, 1u);  // the aggregate keeps the history
  EXPECT_EQ(healed.xid_events.size(), 1u);
}

TEST(FakeGpuCluster, DegradingFaultsOverrideTheLoad) {
  ManualClock clock;
  FakeGpuCluster cluster(clock, {.devices = 1});
  cluster.set_load(0, 40, 1000);
  cluster.inject(0, GpuFault::utilization_stuck_full);
  EXPECT_EQ(cluster.device(0).utilization_gpu, 100);
  EXPECT_EQ(cluster.device(0).health, GpuHealth::degraded);
  cluster.heal(0, GpuFault::utilization_stuck_full);
  cluster.inject(0, GpuFault::utilization_stuck_zero);
  EXPECT_EQ(cluster.device(0).utilization_gpu, 0);
  cluster.heal_device(0);
  cluster.inject(0, GpuFault::memory_exhausted);
  const auto full = cluster.device(0);
  EXPECT_EQ(full.memory_used_mib, full.memory_total_mib - full.memory_reserved_mib);
  EXPECT_EQ(full.memory_free_mib(), 0u);
  cluster.heal_all();
  cluster.inject(0, GpuFault::thermal_throttle);
  EXPECT_TRUE(cluster.device(0).hw_thermal_slowdown);
  EXPECT_EQ(cluster.device(0).temperature_c, 90);
  cluster.heal_all();
  const auto back = cluster.device(0);
  EXPECT_EQ(back.utilization_gpu, 40);
  EXPECT_EQ(back.memory_used_mib, 1000u);
  EXPECT_EQ(back.health, GpuHealth::healthy);
}

TEST(FakeGpuCluster, TimedFaultsHealOnTheClock) {
  ManualClock clock;
  FakeGpuCluster cluster(clock, {.devices = 1});
  cluster.inject(0, GpuFault::fell_off_bus, std::chrono::seconds(30));
  clock.advance(std::chrono::seconds(29));
  EXPECT_EQ(cluster.device(0).health, GpuHealth::lost);
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(cluster.device(0).health, GpuHealth::healthy);
  // Re-injecting re-arms the duration; healing by hand cancels the timer.
  cluster.inject(0, GpuFault::thermal_throttle, std::chrono::seconds(10));
  clock.advance(std::chrono::seconds(5));
  cluster.inject(0, GpuFault::thermal_throttle, std::chrono::seconds(10));
  clock.advance(std::chrono::seconds(6));
  EXPECT_EQ(cluster.device(0).health, GpuHealth::degraded);
  cluster.heal(0, GpuFault::thermal_throttle);
  EXPECT_EQ(clock.pending(), 0u);
  EXPECT_THROW(cluster.inject(0, GpuFault::thermal_throttle, Duration{0}), InputError);
}

TEST(FakeGpuCluster, FaultNamesRoundTrip) {
  for (const auto& name : gpu_fault_names()) {
    const auto f = gpu_fault_from_string(name);
    ASSERT_TRUE(f) << name;
    EXPECT_EQ(to_string(*f), name);
  }
  EXPECT_FALSE(gpu_fault_from_string("xid13"));
  EXPECT_EQ(smi_mode_from_string("hang"), SmiMode::hang);
  EXPECT_FALSE(smi_mode_from_string("sleepy"));
}

TEST(FakeGpuCluster, StateFileFollowsEveryChangeAndIsRemoved) {
  faultline::testing::TempDir dir;
  const auto path = dir.path() / "gpu-state.json";
  ManualClock clock;
  {
    FakeGpuCluster cluster(clock, {.host = "gpu-a", .devices = 2, .state_file = path});
    auto s = GpuClusterState::read_file(path);
    EXPECT_EQ(s.host, "gpu-a");
    EXPECT_EQ(s.devices.size(), 2u);
    cluster.inject(1, GpuFault::double_bit_ecc);
    cluster.set_smi_mode(SmiMode::malformed);
    s = GpuClusterState::read_file(path);
    EXPECT_EQ(s.devices[1].health, GpuHealth::failed);
    EXPECT_EQ(s.devices[1].faults.count(GpuFault::double_bit_ecc), 1u);
    EXPECT_EQ(s.smi_mode, SmiMode::malformed);
    EXPECT_EQ(s.devices[1].to_json(), cluster.device(1).to_json());
    EXPECT_EQ(cluster.faults_json()["devices"]["1"][0], "xid48");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(FakeGpuCluster, MalformedStateIsAnErrorNamingTheFile) {
  faultline::testing::TempDir dir;
  const auto path = dir.path() / "bad.json";
  std::ofstream(path) << "{\"host\": 3}";
  try {
    GpuClusterState::read_file(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(GpuClusterState::read_file(dir.path() / "missing.json"), Error);
}

}  // namespace
}  // namespace faultline::fakes::gpu
