// REQ-INFRA-04 in local mode: this machine's own /proc and filesystem.
#include <gtest/gtest.h>

#include "harness/ops/monitoring_service.h"
#include "harness/testing/covers.h"

namespace faultline::ops {
namespace {

TEST(MonitoringLocal, CollectsThisMachinesCpuMemoryAndDisk) {
  FAULTLINE_COVERS("UT-INFRA-04.1");
  if (!std::filesystem::exists("/proc/stat")) GTEST_SKIP() << "no /proc on this machine";
  RealClock clock;
  ProcSource proc;
  MetricsCollector collector(proc, clock);
  for (int i = 0; i < 2; ++i) {
    const MetricsData m = collector.collect();
    EXPECT_GE(m.cpu_usage, 0.0);
    EXPECT_LE(m.cpu_usage, 100.0);
    EXPECT_GT(m.memory_usage, 0.0) << "a running machine uses some memory";
    EXPECT_LT(m.memory_usage, 100.0);
    EXPECT_GT(m.disk_usage, 0.0);
    EXPECT_LE(m.disk_usage, 100.0);
  }
  AlertManager alerts(clock);
  MonitoringService service(clock, collector, alerts);
  service.tick();
  EXPECT_FALSE(parse_prometheus_text(service.exposition()).empty());
}

}  // namespace
}  // namespace faultline::ops
