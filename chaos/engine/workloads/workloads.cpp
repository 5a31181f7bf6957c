// The workload registry (workload.h).
#include "chaos/engine/workload.h"

namespace faultline::chaos {

std::unique_ptr<Workload> make_orders_workload(const WorkloadSpec& spec, Environment& env);
std::unique_ptr<Workload> make_cache_workload(const WorkloadSpec& spec, Environment& env);

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
