// The workload registry (workload.h).
#include "chaos/engine/workload.h"

namespace faultline::chaos {

std::unique_ptr<Workload> make_orders_workload(const WorkloadSpec& spec, Environment& env);
std::unique_ptr<Workload> make_cache_workload(const WorkloadSpec& spec, Environment& env);
std::unique_ptr<Workload> make_stream_workload(const WorkloadSpec& spec, Environment& env);
std::unique_ptr<Workload> make_backup_workload(const WorkloadSpec& spec, Environment& env);
std::unique_ptr<Workload> make_containers_workload(const WorkloadSpec& spec, Environment& env);
std::unique_ptr<Workload> make_gpu_jobs_workload(const WorkloadSpec& spec, Environment& env);

namespace {

const std::vector<WorkloadKind>& kinds() {
  static const std::vector<WorkloadKind> k = {
      {"orders",
       "order writes through the application's Postgres pool, read back after",
       {"postgres"},
       {"pool", "window"},
       &make_orders_workload},
      {"cache",
       "price reads through CacheClient with database fallback, writes through it",
       {"redis"},
       {"database", "pool", "ttl_ms", "failure_threshold", "half_open_ms", "keys", "write_every",
        "window"},
       &make_cache_workload},
      {"stream",
       "acks=all produces (idempotent) and a consumer group reading them back; lag per step",
       {"kafka"},
       {"topic", "group", "partitions", "replication", "min_insync", "batch", "catch_up_ms",
        "delivery_timeout_ms", "window"},
       &make_stream_workload},
      {"backup",
       "BackupManager backups of the database every every_ms (count of them); restore after",
       {"postgres"},
       {"every_ms", "count", "rpo_target_s"},
       &make_backup_workload},
      {"containers",
       "containers on the docker service under the Orchestrator's restart policy (on-failure:"
       "attempts, backoff_ms doubling); one monitor_health pass per step",
       {"docker"},
       {"containers", "image", "attempts", "backoff_ms", "window"},
       &make_containers_workload},
      {"gpu-jobs",
       "GpuScheduler places jobs on the gpu service's devices (read by nvidia-smi or NVML) and "
       "moves them off a failed one; jobs checkpoint and complete",
       {"gpu"},
       {"jobs", "total", "steps", "checkpoint_every", "memory_mib", "window"},
       &make_gpu_jobs_workload},
  };
  return k;
}

}  // namespace

const WorkloadKind* find_workload_kind(const std::string& name) {
  for (const auto& k : kinds())
    if (k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> workload_kind_names() {
  std::vector<std::string> out;
  for (const auto& k : kinds()) out.push_back(k.name);
  return out;
}

void OutcomeWindow::add(bool ok) {
  outcomes_.push_back(ok);
  if (outcomes_.size() > size_) outcomes_.erase(outcomes_.begin());
}

double OutcomeWindow::error_rate() const {
  if (outcomes_.empty()) return 0;
  std::size_t bad = 0;
  for (bool ok : outcomes_) bad += ok ? 0 : 1;
  return static_cast<double>(bad) / static_cast<double>(outcomes_.size());
}

}  // namespace faultline::chaos
