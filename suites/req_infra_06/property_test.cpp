// PT-INFRA-06.1 over random sequences of job submissions, completions, load changes, hardware
// faults, heals and scheduler rounds on two fake GPU servers of two devices each:
//   - reported utilization stays within 0..100 % and memory used never exceeds memory total;
//   - no job is placed on a device the scheduler has marked unhealthy;
//   - after each scheduler round no job runs on a failed or lost device (its jobs were moved);
//   - every submitted job is, until it completes, in exactly one place: one device or pending —
//     never lost, never on two devices.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <set>

#include "fakes/gpu/gpu_model.h"
#include "harness/clients/gpu/gpu_scheduler.h"
#include "harness/testing/covers.h"
#include "harness/testing/property.h"

namespace faultline::req_infra_06 {
namespace {

using clients::GpuDeviceRef;
using fakes::gpu::FakeGpuCluster;
using fakes::gpu::GpuFault;
using fakes::gpu::GpuHealth;

// One step, decoded from four random bytes.
struct Step {
  std::uint8_t op, a, b, c;
};

void check_readings(const clients::GpuQueryResult& result) {
  for (const auto& d : result.devices) {
    if (d.utilization_percent) {
      RC_ASSERT(*d.utilization_percent >= 0.0);
      RC_ASSERT(*d.utilization_percent <= 100.0);
    }
    if (d.memory_used_mib && d.memory_total_mib)
      RC_ASSERT(*d.memory_used_mib <= *d.memory_total_mib);
  }
}

TEST(GpuSchedulingProperty, NoJobLostOrOnTwoDevicesAndNoneOnAnUnhealthyOne) {
  FAULTLINE_COVERS("PT-INFRA-06.1");
  faultline::testing::check_property(
      [](const std::vector<std::tuple<std::uint8_t, std::uint8_t, std::uint8_t, std::uint8_t>>&
             raw) {
        ManualClock clock;
        FakeGpuCluster a(clock, {.host = "gpu-a", .devices = 2, .memory_total_mib = 4096});
        FakeGpuCluster b(clock, {.host = "gpu-b", .devices = 2, .memory_total_mib = 4096});
        FakeGpuCluster* clusters[2] = {&a, &b};
        clients::GpuProbe probe_a(clock, clients::fake_source(a), nullptr, nullptr,
                                  {.server = "gpu-a"});
        clients::GpuProbe probe_b(clock, clients::fake_source(b), nullptr, nullptr,
                                  {.server = "gpu-b"});
        clients::GpuScheduler scheduler(clock);
        scheduler.add_server(probe_a);
        scheduler.add_server(probe_b);
        auto cluster_of = [&](const GpuDeviceRef& ref) { return ref.server == "gpu-a" ? &a : &b; };
        // Placements go only to devices the scheduler has marked healthy (from its last reading; a
        // fault it has not read yet is found, and its jobs moved, by the next round).
        bool placed_on_unhealthy = false;
        scheduler.set_listener([&](const clients::GpuJobMove& m) {
          if (m.to && scheduler.device_health(*m.to) != clients::GpuDeviceHealth::healthy) {
            placed_on_unhealthy = true;
          }
        });
        std::set<std::string> submitted, completed;
        int next_job = 0;
        for (const auto& [op, x, y, z] : raw) {
          const int server = x % 2, device = y % 2;
          switch (op % 7) {
            case 0:
            case 1: {
              const std::string id = "job-" + std::to_string(next_job++);
              scheduler.submit({id, static_cast<std::uint64_t>(256 + 64 * (z % 32))});
              submitted.insert(id);
              break;
            }
            case 2:
              if (!submitted.empty()) {
                auto it = std::next(submitted.begin(), static_cast<long>(z % submitted.size()));
                scheduler.complete(*it);
                completed.insert(*it);
              }
              break;
            case 3: {
              const GpuFault faults[] = {
                  GpuFault::fell_off_bus,           GpuFault::double_bit_ecc,
                  GpuFault::thermal_throttle,       GpuFault::memory_exhausted,
                  GpuFault::utilization_stuck_zero, GpuFault::utilization_stuck_full};
              clusters[server]->inject(device, faults[z % 6]);
              break;
            }
            case 4:
              clusters[server]->heal_device(device);
              break;
            case 5:
              clusters[server]->set_load(device, z % 120, static_cast<std::uint64_t>(z) * 40);
              break;
            case 6: {
              scheduler.job_scheduler();
              check_readings(*probe_a.last());
              check_readings(*probe_b.last());
              // No running job is left on a device that failed or fell off the bus.
              for (const auto& j : scheduler.jobs()) {
                if (j.state != clients::GpuJobState::running) continue;
                const GpuHealth h = cluster_of(*j.device)->device(j.device->index).health;
                RC_ASSERT(h != GpuHealth::lost);
                RC_ASSERT(h != GpuHealth::failed);
              }
              break;
            }
          }
          RC_ASSERT(!placed_on_unhealthy);
          // Every job is in exactly one place.
          std::map<std::string, int> places;
          for (const auto& ref : scheduler.devices()) {
            for (const auto& id : scheduler.jobs_on(ref)) ++places[id];
          }
          for (const auto& id : scheduler.pending()) ++places[id];
          for (const auto& id : submitted) {
            const auto status = scheduler.job(id);
            RC_ASSERT(status.has_value());
            if (completed.count(id) != 0) {
              RC_ASSERT(status->state == clients::GpuJobState::completed);
              RC_ASSERT(places[id] == 0);
            } else {
              RC_ASSERT(places[id] == 1);
              RC_ASSERT((status->state == clients::GpuJobState::running) ==
                        status->device.has_value());
            }
          }
          RC_ASSERT(scheduler.jobs().size() == submitted.size());
        }
      });
}

}  // namespace
}  // namespace faultline::req_infra_06
