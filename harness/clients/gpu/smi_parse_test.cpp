// Parsing nvidia-smi's CSV: the fake's own output, lost devices, and everything malformed.
#include <gtest/gtest.h>

#include "fakes/gpu/smi_output.h"
#include "harness/clients/gpu/smi_parse.h"
#include "harness/core/error.h"

namespace faultline::clients {
namespace {

std::string fake_output(fakes::gpu::FakeGpuCluster& cluster, int* exit_code = nullptr) {
  const auto r = fakes::gpu::run_nvidia_smi({smi_query_argument(), "--format=csv,noheader,nounits"},
                                            cluster.snapshot());
  if (exit_code != nullptr) *exit_code = r.exit_code;
  return r.out;
}

TEST(SmiParse, ReadsWhatTheFakePrints) {
  ManualClock clock;
  fakes::gpu::FakeGpuCluster cluster(clock, {.devices = 2});
  cluster.set_load(0, 70, 30000);
  cluster.inject(1, fakes::gpu::GpuFault::thermal_throttle);
  const auto parsed = parse_smi_query(fake_output(cluster));
  ASSERT_EQ(parsed.devices.size(), 2u);
  const auto& d0 = parsed.devices[0];
  EXPECT_EQ(d0.index, 0);
  EXPECT_EQ(d0.name, "NVIDIA A100-PCIE-40GB");
  EXPECT_EQ(d0.uuid, cluster.device(0).uuid);
  EXPECT_EQ(d0.pci_bus_id, "00000000:07:00.0");
  EXPECT_EQ(d0.memory_total_mib, 40960u);
  EXPECT_EQ(d0.memory_used_mib, 30000u);
  EXPECT_EQ(d0.utilization_percent, 70.0);
  EXPECT_EQ(d0.ecc_uncorrected_volatile, 0u);
  EXPECT_EQ(d0.thermal_slowdown, false);
  EXPECT_EQ(d0.health, GpuDeviceHealth::healthy);
  EXPECT_EQ(parsed.devices[1].health, GpuDeviceHealth::degraded);
  EXPECT_TRUE(parsed.lost_bus_ids.empty());
}

TEST(SmiParse, EccErrorsMeanFailedAndLostLinesMeanLost) {
  ManualClock clock;
  fakes::gpu::FakeGpuCluster cluster(clock, {.devices = 3});
  cluster.inject(0, fakes::gpu::GpuFault::double_bit_ecc);
  cluster.inject(2, fakes::gpu::GpuFault::fell_off_bus);
  int code = 0;
  const auto parsed = parse_smi_query(fake_output(cluster, &code));
  EXPECT_EQ(code, 15);
  ASSERT_EQ(parsed.devices.size(), 2u);
  EXPECT_EQ(parsed.devices[0].health, GpuDeviceHealth::failed);
  EXPECT_EQ(parsed.devices[1].health, GpuDeviceHealth::healthy);
  ASSERT_EQ(parsed.lost_bus_ids.size(), 1u);
  EXPECT_EQ(parsed.lost_bus_ids[0], "0000:27:00.0");
  EXPECT_TRUE(same_bus_id(parsed.lost_bus_ids[0], cluster.device(2).pci_bus_id));
  EXPECT_FALSE(same_bus_id(parsed.lost_bus_ids[0], cluster.device(1).pci_bus_id));
}

TEST(SmiParse, BracketedValuesAreUnknownReadings) {
  const auto parsed = parse_smi_query(
      "0, Tesla T4, GPU-11111111-2222-3333-4444-555555555555, 00000000:3B:00.0, 15360, [N/A], "
      "[Not Supported], 40, [Unknown Error], [N/A], [N/A]\n");
  ASSERT_EQ(parsed.devices.size(), 1u);
  EXPECT_FALSE(parsed.devices[0].memory_used_mib);
  EXPECT_FALSE(parsed.devices[0].utilization_percent);
  EXPECT_FALSE(parsed.devices[0].memory_used_percent());
  EXPECT_EQ(parsed.devices[0].temperature_c, 40.0);
}

TEST(SmiParse, MalformedOutputIsAnErrorNamingTheLine) {
  const std::string good =
      "0, A, GPU-11111111-2222-3333-4444-555555555555, 00000000:3B:00.0, 100, 10, 5, 40, 50.0, 0, "
      "Not Active\n";
  const std::vector<std::string> bad = {
      "",                                                         // nothing at all
      "garbage\n",                                                // one field
      good + "1, A, GPU-x, b, 100, 10, 5\n",                      // too few fields on line 2
      "x, A, GPU-1, b, 100, 10, 5, 40, 50.0, 0, Not Active\n",    // index not a number
      "0, A, uuid, b, 100, 10, 5, 40, 50.0, 0, Not Active\n",     // not a GPU uuid
      "0, A, GPU-1, b, 100, 200, 5, 40, 50.0, 0, Not Active\n",   // used above total
      "0, A, GPU-1, b, 100, 10, 500, 40, 50.0, 0, Not Active\n",  // utilization above 100
      "0, A, GPU-1, b, 100, 10, 5, 40, 50.0, 0, Maybe\n",         // throttle not a state
      "index, name, memory.used [MiB]\n#### \x01\x02 corrupted ####\n0,,;;\n",  // SmiMode::malformed
  };
  EXPECT_NO_THROW(parse_smi_query(good));
  for (const auto& text : bad) {
    EXPECT_THROW(parse_smi_query(text), Error) << text;
  }
  try {
    parse_smi_query(good + "1, A\n");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace faultline::clients
