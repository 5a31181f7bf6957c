// GpuScheduler: pins GPU jobs to devices (CUDA:0, CUDA:1, ... of one or more GPU servers, as
// Celery worker pools are mapped to devices in seed 003) and moves them off a device that fails.
//
// Servers are added in failover order: the first is the primary. A job goes to a healthy device
// of the first server that has one (fewest jobs first, then the lowest index), provided the
// device's memory, less what its jobs already hold, fits the job. job_scheduler() reads every
// server through its GpuProbe and:
//   - a device read as failed or lost (Xid, double-bit ECC, fell off the bus) is marked
//     unhealthy and each of its jobs moves to a healthy device — on the same server if one is
//     left, else on the next server (failover_to_secondary) — resuming from its last checkpoint;
//   - a job for which no healthy device is left becomes pending (and GpuNoHealthyDevice fires);
//     pending jobs are placed as soon as a device is healthy again;
//   - a device read as unknown (the probe failed) or degraded keeps its jobs but gets no new ones.
// A device that recovers is used again for new and pending jobs; running jobs do not move back.
// A job is always in exactly one place — one device or pending — until complete(); that is what
// PT-INFRA-06.1 checks. Every placement, move, failover and completion is journaled (subject
// "gpu-scheduler"), and moves and stranded jobs are alerted through the AlertManager.
//
// Thread safety: job_scheduler() and failover_to_secondary() run on one thread at a time (they
// use the probes); submit, checkpoint, complete and the accessors may be called from any thread
// (one lock). Listeners run on the thread that made the move, without the lock held.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/clients/gpu/gpu_probe.h"
#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/ops/alert_manager.h"

namespace faultline::clients {

struct GpuDeviceRef {
  std::string server;
  int index = -1;

  std::string cuda() const { return "CUDA:" + std::to_string(index); }
  std::string str() const { return server + "/" + cuda(); }  // "gpu-a/CUDA:1"
  friend auto operator<=>(const GpuDeviceRef&, const GpuDeviceRef&) = default;
};

struct GpuJob {
  std::string id;
  std::uint64_t memory_mib = 0;  // what the job holds on its device
};

enum class GpuJobState { running, pending, completed };
std::string_view to_string(GpuJobState state);

struct GpuJobStatus {
  GpuJob job;
  GpuJobState state = GpuJobState::pending;
  std::optional<GpuDeviceRef> device;  // set while running
  std::uint64_t checkpoint = 0;        // last checkpointed step
  int moves = 0;
};

// One placement change: a first placement (from empty), a move, or a job left pending (to empty).
struct GpuJobMove {
  std::string job;
  std::optional<GpuDeviceRef> from, to;
  std::uint64_t resume_from = 0;  // the checkpoint the job resumes from on `to`
  std::string reason;             // "placed", "device gpu-a/CUDA:0 lost: ...", ...
  bool failover = false;          // moved to another server
};

class GpuScheduler {
 public:
  GpuScheduler(Clock& clock, Journal* journal = nullptr, ops::AlertManager* alerts = nullptr);

  // Adds a server, read through `probe` (which must outlive the scheduler), and reads it once.
  // Throws InputError if a server of that name was added already.
  void add_server(GpuProbe& probe);
  // Called after every placement change (placing, moving, stranding a job).
  void set_listener(std::function<void(const GpuJobMove&)> listener);

  // Places `job` now if a healthy device fits it, else leaves it pending. Throws InputError for an
  // empty or duplicate id.
  std::optional<GpuDeviceRef> submit(GpuJob job);
  // Records the last completed step of a running job (it resumes from there after a move).
  // Throws InputError for an unknown or completed job.
  void checkpoint(const std::string& job, std::uint64_t step);
  // The job finished: it frees its device. Throws InputError for an unknown job.
  void complete(const std::string& job);

  // job_scheduler(): reads every server and reacts as described above; returns the changes made.
  std::vector<GpuJobMove> job_scheduler();
  // Moves every job of `server` to the other servers, as if all its devices had failed, and keeps
  // the server out of placement until restore_server(). (job_scheduler() fails a server over by
  // itself when every device of it has failed, and brings it back once one reads healthy again.)
  // Throws InputError for an unknown server.
  std::vector<GpuJobMove> failover_to_secondary(const std::string& server);
  // Puts a server taken out by failover_to_secondary() back into placement (and places pending
  // jobs on it).
  std::vector<GpuJobMove> restore_server(const std::string& server);

  std::optional<GpuJobStatus> job(const std::string& id) const;
  std::vector<GpuJobStatus> jobs() const;
  std::vector<std::string> jobs_on(const GpuDeviceRef& device) const;
  std::vector<std::string> pending() const;
  // Health as last read (unknown for a device never read).
  GpuDeviceHealth device_health(const GpuDeviceRef& device) const;
  std::vector<GpuDeviceRef> devices() const;

 private:
  struct Device {
    GpuDeviceHealth health = GpuDeviceHealth::unknown;
    std::uint64_t memory_total_mib = 0;
    std::string reason;
  };
  struct Server {
    GpuProbe* probe = nullptr;
    bool evacuated = false;  // out of placement after a failover
    bool manual = false;     // by failover_to_secondary(): only restore_server() brings it back
  };
  void read_server_locked(const std::string& name, const GpuQueryResult& result);
  // A healthy device that fits `job`: on `prefer_server` first, then the servers in order.
  std::optional<GpuDeviceRef> choose_locked(const GpuJobStatus& job,
                                            const std::string& prefer_server) const;
  std::uint64_t memory_held_locked(const GpuDeviceRef& device) const;
  void move_locked(GpuJobStatus& job, std::optional<GpuDeviceRef> to, std::string reason,
                   std::vector<GpuJobMove>& moves);
  void evacuate_locked(const GpuDeviceRef& device, const std::string& reason,
                       std::vector<GpuJobMove>& moves);
  void place_pending_locked(std::vector<GpuJobMove>& moves);
  void publish(const std::vector<GpuJobMove>& moves);
  std::vector<std::string> jobs_on_locked(const GpuDeviceRef& device) const;
  std::vector<std::string> pending_locked() const;
  void alert_locked(const std::string& rule, ops::Severity severity,
                    std::map<std::string, std::string> labels, double value, bool resolved,
                    std::string summary);

  Clock& clock_;
  Journal* journal_;
  ops::AlertManager* alerts_;
  mutable std::mutex mu_;
  std::vector<std::string> server_order_;
  std::map<std::string, Server> servers_;
  std::map<GpuDeviceRef, Device> devices_;
  std::map<std::string, GpuJobStatus> jobs_;
  std::vector<std::string> submit_order_;  // pending jobs are placed oldest first
  std::function<void(const GpuJobMove&)> listener_;
  bool stranded_alert_ = false;  // GpuNoHealthyDevice is firing
};

}  // namespace faultline::clients
