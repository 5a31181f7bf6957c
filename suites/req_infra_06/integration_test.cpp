// IT-INFRA-06 with the fake GPU: two GPU servers (each a FakeGpuCluster read through the fake
// nvidia-smi program), a GPU job workload that holds device memory and checkpoints as it runs on
// the simulated clock, and gpu_fault() in two steps: one device of the primary fails, then the
// whole primary. Jobs move to a healthy device and then to the second server, the GPU exporter
// metrics show the fault, and no job is lost.
#include <gtest/gtest.h>

#include "harness/clients/gpu/gpu_scheduler.h"
#include "harness/ops/exposition.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_06/fake_gpu_server.h"

namespace faultline::req_infra_06 {
namespace {

using clients::GpuDeviceRef;
using clients::GpuJobState;
using fakes::gpu::GpuFault;

double sample(const std::vector<ops::MetricFamily>& families, const std::string& name,
              const std::map<std::string, std::string>& labels) {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& s : f.samples) {
      bool match = true;
      for (const auto& [k, v] : labels) match = match && s.labels.count(k) && s.labels.at(k) == v;
      if (match) return s.value;
    }
  }
  return -1;
}

TEST(GpuFailoverIntegration, JobsSurviveADeviceAndThenTheWholePrimaryServer) {
  FAULTLINE_COVERS("IT-INFRA-06");
  ManualClock clock;
  Journal journal(clock);
  ops::AlertManager alerts(clock, &journal);
  FakeGpuServer a(clock, "gpu-a"), b(clock, "gpu-b");
  FakeGpuServer* servers[] = {&a, &b};
  clients::GpuProbe probe_a(clock, clients::nvidia_smi_source(a.smi()), &journal, &alerts,
                            {.server = "gpu-a"});
  clients::GpuProbe probe_b(clock, clients::nvidia_smi_source(b.smi()), &journal, &alerts,
                            {.server = "gpu-b"});
  clients::GpuScheduler scheduler(clock, &journal, &alerts);
  scheduler.add_server(probe_a);
  scheduler.add_server(probe_b);

  // The workload: each job holds its memory on the device it runs on (freed where it left; a
  // device that failed has lost it anyway) and checkpoints every simulated minute.
  auto server_of = [&](const GpuDeviceRef& ref) { return ref.server == "gpu-a" ? &a : &b; };
  scheduler.set_listener([&](const clients::GpuJobMove& m) {
    const auto job = *scheduler.job(m.job);
    if (m.from) server_of(*m.from)->cluster.release(m.from->index, job.job.memory_mib);
    if (m.to) {
      ASSERT_TRUE(server_of(*m.to)->cluster.allocate(m.to->index, job.job.memory_mib));
    }
  });
  const int kJobs = 6;
  for (int i = 0; i < kJobs; ++i) scheduler.submit({"train-" + std::to_string(i), 6000});
  std::map<std::string, std::uint64_t> step;
  auto run_minutes = [&](int minutes) {
    for (int m = 0; m < minutes; ++m) {
      clock.advance(std::chrono::minutes(1));
      for (const auto& j : scheduler.jobs()) {
        if (j.state != GpuJobState::running) continue;
        step[j.job.id] = std::max(step[j.job.id], j.checkpoint) + 10;
        scheduler.checkpoint(j.job.id, step[j.job.id]);
      }
      scheduler.job_scheduler();
      probe_a.gpu_health_check();
      probe_b.gpu_health_check();
    }
  };
  run_minutes(3);
  for (const auto& j : scheduler.jobs()) EXPECT_EQ(j.device->server, "gpu-a");

  // gpu_fault(), step 1: CUDA:0 of the primary takes a double-bit ECC error (Xid 48).
  a.cluster.inject(0, GpuFault::double_bit_ecc);
  run_minutes(1);
  EXPECT_TRUE(scheduler.jobs_on({"gpu-a", 0}).empty());
  EXPECT_EQ(scheduler.jobs_on({"gpu-a", 1}).size(), static_cast<std::size_t>(kJobs));
  auto metrics = probe_a.metrics();
  EXPECT_EQ(
      sample(metrics, "faultline_gpu_device_health_info", {{"gpu", "0"}, {"health", "failed"}}), 1);
  EXPECT_EQ(sample(metrics, "faultline_gpu_ecc_uncorrected_errors_total", {{"gpu", "0"}}), 1);

  // gpu_fault(), step 2: the rest of the primary falls off the bus (Xid 79).
  a.cluster.inject(1, GpuFault::fell_off_bus);
  std::map<std::string, std::uint64_t> before;
  for (const auto& j : scheduler.jobs()) before[j.job.id] = j.checkpoint;
  scheduler.job_scheduler();
  for (const auto& j : scheduler.jobs()) {
    EXPECT_EQ(j.state, GpuJobState::running) << j.job.id;
    EXPECT_EQ(j.device->server, "gpu-b") << j.job.id;
  }
  // They resumed from the checkpoint they had when the primary went.
  for (const auto& e : journal.events()) {
    if (e.kind != "gpu.job.move" || !e.fields["failover"].get<bool>()) continue;
    EXPECT_EQ(e.fields["resume_from"].get<std::uint64_t>(),
              before[e.fields["job"].get<std::string>()]);
  }
  run_minutes(2);

  // The exporter shows the fault; the Prometheus text carries it.
  metrics = probe_a.metrics();
  EXPECT_EQ(sample(metrics, "faultline_gpu_device_health_info", {{"gpu", "1"}, {"health", "lost"}}),
            1);
  const std::string text = ops::to_prometheus_text(metrics);
  EXPECT_NE(text.find("health=\"lost\""), std::string::npos) << text;
  for (const auto& f : metrics) EXPECT_TRUE(ops::follows_naming_convention(f.name)) << f.name;
  EXPECT_GE(sample(probe_b.metrics(), "faultline_gpu_memory_used_bytes", {{"gpu", "0"}}),
            6000.0 * 1048576);

  // No job lost: every job runs, exactly once, on the second server, and kept making progress.
  std::set<std::string> seen;
  for (int d = 0; d < 2; ++d) {
    for (const auto& id : scheduler.jobs_on({"gpu-b", d}))
      EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kJobs));
  EXPECT_TRUE(scheduler.pending().empty());
  for (const auto& j : scheduler.jobs()) EXPECT_GT(j.checkpoint, before[j.job.id]);
  // And the alerts went out: the device, the failover.
  int delivered_unhealthy = 0, delivered_failover = 0;
  for (const auto& e : journal.events()) {
    if (e.kind != "alert.delivered") continue;
    delivered_unhealthy += e.subject == "GpuDeviceUnhealthy" ? 1 : 0;
    delivered_failover += e.subject == "GpuServerFailedOver" ? 1 : 0;
  }
  EXPECT_EQ(delivered_unhealthy, 2);
  EXPECT_EQ(delivered_failover, 1);
  (void)servers;
}

}  // namespace
}  // namespace faultline::req_infra_06
