// What the fake nvidia-smi prints: -L, --query-gpu CSV, -q -x, and nvidia-smi's own errors.
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "fakes/gpu/smi_output.h"

namespace faultline::fakes::gpu {
namespace {

class SmiOutputTest : public ::testing::Test {
 protected:
  SmiOutputTest() : cluster_(clock_, {.host = "gpu-a", .devices = 2, .seed = 3}) {
    cluster_.set_load(0, 45, 20000);
    cluster_.set_load(1, 0, 0);
  }
  SmiOutput run(std::vector<std::string> args) { return run_nvidia_smi(args, cluster_.snapshot()); }
  ManualClock clock_;
  FakeGpuCluster cluster_;
};

TEST_F(SmiOutputTest, ListsGpus) {
  const auto r = run({"-L"});
  EXPECT_EQ(r.exit_code, 0);
  const auto d0 = cluster_.device(0), d1 = cluster_.device(1);
  EXPECT_EQ(r.out, "GPU 0: NVIDIA A100-PCIE-40GB (UUID: " + d0.uuid +
                       ")\nGPU 1: NVIDIA A100-PCIE-40GB (UUID: " + d1.uuid + ")\n");
  EXPECT_EQ(run({"--list-gpus"}).out, r.out);
}

TEST_F(SmiOutputTest, QueryGpuCsvWithHeaderAndUnits) {
  const auto r = run(
      {"--query-gpu=index,name,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw",
       "--format=csv"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out,
            "index, name, memory.total [MiB], memory.used [MiB], utilization.gpu [%], "
            "temperature.gpu, power.draw [W]\n"
            "0, NVIDIA A100-PCIE-40GB, 40960 MiB, 20000 MiB, 45 %, 46, 131.75 W\n"
            "1, NVIDIA A100-PCIE-40GB, 40960 MiB, 0 MiB, 0 %, 31, 35.00 W\n");
}

TEST_F(SmiOutputTest, QueryGpuNoHeaderNoUnits) {
  const auto r =
      run({"--query-gpu", "index,memory.free,fan.speed,pstate", "--format=csv,noheader,nounits"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "0, 20540, [N/A], P0\n1, 40540, [N/A], P8\n");
}

TEST_F(SmiOutputTest, UnknownFieldIsNvidiaSmisError) {
  const auto r = run({"--query-gpu=index,gpu_temperature", "--format=csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "Field \"gpu_temperature\" is not a valid field to query.\n\n");
}

TEST_F(SmiOutputTest, FormatIsRequiredAndChecked) {
  EXPECT_EQ(run({"--query-gpu=index"}).exit_code, 2);
  const auto r = run({"--query-gpu=index", "--format=json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("Invalid format"), std::string::npos);
  EXPECT_EQ(run({"--bogus"}).out,
            "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n");
  EXPECT_EQ(run({"-L", "-q"}).exit_code, 2);
  EXPECT_EQ(run({}).exit_code, 3);
  EXPECT_EQ(run({"-h"}).exit_code, 0);
}

TEST_F(SmiOutputTest, SelectsDevicesById) {
  const auto uuid1 = cluster_.device(1).uuid;
  EXPECT_EQ(run({"-i", "1", "--query-gpu=index", "--format=csv,noheader"}).out, "1\n");
  EXPECT_EQ(run({"--id=" + uuid1, "--query-gpu=index", "--format=csv,noheader"}).out, "1\n");
  EXPECT_EQ(run({"-i", "1,0", "--query-gpu=index", "--format=csv,noheader"}).out, "1\n0\n");
  const auto missing = run({"-i", "7", "-L"});
  EXPECT_EQ(missing.exit_code, 6);
  EXPECT_EQ(missing.out, "No devices were found\n");
}

TEST_F(SmiOutputTest, LostDeviceAnswersGpuIsLost) {
  cluster_.inject(1, GpuFault::fell_off_bus);
  const auto r = run({"--query-gpu=index,utilization.gpu", "--format=csv,noheader,nounits"});
  EXPECT_EQ(r.exit_code, 15);
  EXPECT_EQ(r.out,
            "0, 45\nUnable to determine the device handle for GPU 0000:17:00.0: GPU is lost.  "
            "Reboot the system to recover this GPU\n");
  const auto l = run({"-L"});
  EXPECT_EQ(l.exit_code, 15);
  EXPECT_NE(l.out.find("GPU 0: "), std::string::npos);
  EXPECT_NE(l.out.find("GPU is lost"), std::string::npos);
  EXPECT_EQ(run({"-q", "-x"}).exit_code, 15);
}

TEST_F(SmiOutputTest, EccAndThrottleFields) {
  cluster_.inject(0, GpuFault::double_bit_ecc);
  cluster_.inject(1, GpuFault::thermal_throttle);
  const auto r =
      run({"--query-gpu=ecc.errors.uncorrected.volatile.total,"
           "ecc.errors.uncorrected.aggregate.total,"
           "clocks_throttle_reasons.hw_thermal_slowdown,clocks_throttle_reasons.active",
           "--format=csv,noheader"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "1, 1, Not Active, 0x0000000000000000\n0, 0, Active, 0x0000000000000041\n");
}

TEST_F(SmiOutputTest, XmlQueryParsesAndCarriesTheReadings) {
  cluster_.inject(0, GpuFault::double_bit_ecc);
  const auto r = run({"-q", "-x"});
  ASSERT_EQ(r.exit_code, 0);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.out.c_str())) << r.out;
  const auto log = doc.child("nvidia_smi_log");
  EXPECT_STREQ(log.child_value("attached_gpus"), "2");
  EXPECT_STREQ(log.child_value("driver_version"), "535.129.03");
  const auto gpu = log.child("gpu");
  EXPECT_STREQ(gpu.attribute("id").value(), "00000000:07:00.0");
  EXPECT_STREQ(gpu.child_value("uuid"), cluster_.device(0).uuid.c_str());
  EXPECT_STREQ(gpu.child("fb_memory_usage").child_value("used"), "20000 MiB");
  EXPECT_STREQ(gpu.child("utilization").child_value("gpu_util"), "45 %");
  EXPECT_STREQ(gpu.child("ecc_errors").child("volatile").child_value("dram_uncorrectable"), "1");
  EXPECT_EQ(run({"-q"}).exit_code, 3);  // only the XML form is emulated
}

TEST_F(SmiOutputTest, ToolingModes) {
  cluster_.set_smi_mode(SmiMode::driver_missing);
  auto r = run({"-L"});
  EXPECT_EQ(r.exit_code, 9);
  EXPECT_EQ(r.out.rfind(
                "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver", 0),
            0u);
  cluster_.set_smi_mode(SmiMode::hang);
  EXPECT_TRUE(run({"-L"}).hang);
  cluster_.set_smi_mode(SmiMode::malformed);
  r = run({"-L"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("corrupted"), std::string::npos);
}

}  // namespace
}  // namespace faultline::fakes::gpu
