// REQ-INFRA-06: query_devices() through nvidia-smi (the fake program) and what happens when
// nvidia-smi is missing, hangs or prints garbage.
#include <gtest/gtest.h>

#include "harness/clients/gpu/gpu_probe.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_06/fake_gpu_server.h"

namespace faultline::req_infra_06 {
namespace {

using clients::GpuDeviceHealth;
using fakes::gpu::GpuFault;
using fakes::gpu::SmiMode;

TEST(QueryDevices, ReportsUtilizationMemoryAndHealthOfEachDeviceThroughNvidiaSmi) {
  FAULTLINE_COVERS("UT-INFRA-06.1");
  ManualClock clock;
  FakeGpuServer server(clock, "gpu-a");
  server.cluster.set_load(0, 87, 30720);
  server.cluster.set_load(1, 12, 4096);
  clients::GpuProbe probe(clock, clients::nvidia_smi_source(server.smi()), nullptr, nullptr,
                          {.server = "gpu-a"});
  const auto result = probe.query_devices();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.source, "nvidia-smi");
  ASSERT_EQ(result.devices.size(), 2u);
  EXPECT_EQ(result.devices[0].cuda_name(), "CUDA:0");
  EXPECT_EQ(result.devices[1].cuda_name(), "CUDA:1");
  EXPECT_EQ(result.devices[0].utilization_percent, 87.0);
  EXPECT_EQ(result.devices[0].memory_used_mib, 30720u);
  EXPECT_EQ(result.devices[0].memory_total_mib, 40960u);
  EXPECT_EQ(result.devices[1].utilization_percent, 12.0);
  EXPECT_EQ(result.devices[1].memory_used_mib, 4096u);
  EXPECT_EQ(result.devices[0].health, GpuDeviceHealth::healthy);
  EXPECT_EQ(result.devices[1].uuid, server.cluster.device(1).uuid);

  // A hardware fault shows in the health each device reports.
  server.cluster.inject(0, GpuFault::double_bit_ecc);
  server.cluster.inject(1, GpuFault::fell_off_bus);
  const auto faulty = probe.query_devices();
  ASSERT_TRUE(faulty.ok) << faulty.error;
  ASSERT_EQ(faulty.devices.size(), 2u);
  EXPECT_EQ(faulty.devices[0].health, GpuDeviceHealth::failed);
  EXPECT_EQ(faulty.devices[1].health, GpuDeviceHealth::lost);
  EXPECT_EQ(faulty.devices[1].index, 1);  // the lost device, known by its bus id
  EXPECT_EQ(faulty.devices[1].uuid, server.cluster.device(1).uuid);
}

TEST(QueryDevices, ReadsTheSameThroughTheInProcessFake) {
  FAULTLINE_COVERS("UT-INFRA-06.1");
  ManualClock clock;
  FakeGpuServer server(clock, "gpu-a");
  server.cluster.set_load(1, 55, 10000);
  clients::GpuProbe smi(clock, clients::nvidia_smi_source(server.smi()));
  clients::GpuProbe fake(clock, clients::fake_source(server.cluster));
  const auto a = smi.query_devices(), b = fake.query_devices();
  ASSERT_TRUE(a.ok && b.ok) << a.error << b.error;
  ASSERT_EQ(a.devices.size(), b.devices.size());
  for (std::size_t i = 0; i < a.devices.size(); ++i) {
    EXPECT_EQ(a.devices[i].uuid, b.devices[i].uuid);
    EXPECT_EQ(a.devices[i].memory_used_mib, b.devices[i].memory_used_mib);
    EXPECT_EQ(a.devices[i].utilization_percent, b.devices[i].utilization_percent);
    EXPECT_EQ(a.devices[i].health, b.devices[i].health);
  }
}

// ET-INFRA-06.2: each way nvidia-smi can fail leaves the readings unknown (never healthy), raises
// GpuProbeFailed, and a good reading afterwards resolves it.
class BrokenNvidiaSmi : public ::testing::Test {
 protected:
  void expect_unknown_and_alerted(clients::GpuProbe& probe, const std::string& error_part) {
    const auto alerts = probe.gpu_health_check();
    const auto result = *probe.last();
    EXPECT_FALSE(result.ok);
    EXPECT_NE(result.error.find(error_part), std::string::npos) << result.error;
    ASSERT_EQ(result.devices.size(), 2u);
    for (const auto& d : result.devices) {
      EXPECT_EQ(d.health, GpuDeviceHealth::unknown);
      EXPECT_FALSE(d.utilization_percent);
      EXPECT_FALSE(d.memory_used_mib);
    }
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].rule, "GpuProbeFailed");
    EXPECT_FALSE(alerts[0].resolved);
    EXPECT_EQ(manager_.counts().delivered, 1);
  }
  void expect_recovers(clients::GpuProbe& probe) {
    const auto alerts = probe.gpu_health_check();
    ASSERT_TRUE(probe.last()->ok) << probe.last()->error;
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].rule, "GpuProbeFailed");
    EXPECT_TRUE(alerts[0].resolved);
  }
  ManualClock clock_;
  Journal journal_{clock_};
  ops::AlertManager manager_{clock_, &journal_};
  FakeGpuServer server_{clock_, "gpu-a"};
};

TEST_F(BrokenNvidiaSmi, MissingProgram) {
  FAULTLINE_COVERS("ET-INFRA-06.2");
  // A copy of nvidia-smi that disappears after a good reading (so the devices are known).
  auto options = server_.smi();
  const auto copy = server_.dir.path() / "nvidia-smi";
  std::filesystem::copy_file(options.program, copy);
  options.program = copy;
  clients::GpuProbe probe(clock_, clients::nvidia_smi_source(options), &journal_, &manager_);
  ASSERT_TRUE(probe.query_devices().ok);
  std::filesystem::remove(copy);
  expect_unknown_and_alerted(probe, "not found");
  std::filesystem::copy_file(FAULTLINE_FAKE_NVIDIA_SMI, copy);
  expect_recovers(probe);
}

TEST_F(BrokenNvidiaSmi, HangingProgramTimesOut) {
  FAULTLINE_COVERS("ET-INFRA-06.2");
  // The timeout is generous so that the good readings before and after never hit it, however
  // loaded the machine; the hung one waits for it in full (the fake nvidia-smi hangs until the
  // mode changes, or 120 s).
  clients::GpuProbe probe(clock_, clients::nvidia_smi_source(server_.smi(std::chrono::seconds(10))),
                          &journal_, &manager_);
  ASSERT_TRUE(probe.query_devices().ok);
  server_.cluster.set_smi_mode(SmiMode::hang);
  expect_unknown_and_alerted(probe, "did not answer within 10000 ms");
  server_.cluster.set_smi_mode(SmiMode::normal);
  expect_recovers(probe);
}

TEST_F(BrokenNvidiaSmi, MalformedOutput) {
  FAULTLINE_COVERS("ET-INFRA-06.2");
  clients::GpuProbe probe(clock_, clients::nvidia_smi_source(server_.smi()), &journal_, &manager_);
  ASSERT_TRUE(probe.query_devices().ok);
  server_.cluster.set_smi_mode(SmiMode::malformed);
  expect_unknown_and_alerted(probe, "malformed output");
  server_.cluster.set_smi_mode(SmiMode::normal);
  expect_recovers(probe);
}

TEST_F(BrokenNvidiaSmi, DriverNotLoaded) {
  FAULTLINE_COVERS("ET-INFRA-06.2");
  clients::GpuProbe probe(clock_, clients::nvidia_smi_source(server_.smi()), &journal_, &manager_);
  ASSERT_TRUE(probe.query_devices().ok);
  server_.cluster.set_smi_mode(SmiMode::driver_missing);
  expect_unknown_and_alerted(probe, "exited 9");
  // The failure is journaled as a probe event.
  bool journaled = false;
  for (const auto& e : journal_.events()) {
    journaled = journaled || (e.kind == "probe" && e.subject == "gpu/gpu-0" && !e.fields["ok"]);
  }
  EXPECT_TRUE(journaled);
}

}  // namespace
}  // namespace faultline::req_infra_06
