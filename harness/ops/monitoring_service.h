// MonitoringService: the seed's monitoring module — collects system metrics every
// MONITORING_INTERVAL on the harness Clock, evaluates the alert rules, hands alerts to the
// AlertManager, and exposes what it knows as Prometheus text and as a Grafana dashboard.
//
// A collection that fails (an unreadable /proc, a source that throws) is not a crash: it is
// counted, journaled, and raises the MetricsCollectionFailed alert; the next good collection
// resolves it (ET-INFRA-04.1).
//
// Thread safety: one thread drives tick()/run_for(); metrics() and exposition() may be read from
// others (one lock).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/ops/alert_manager.h"
#include "harness/ops/alerts.h"
#include "harness/ops/exposition.h"
#include "harness/ops/metrics.h"

namespace faultline::ops {

struct MonitoringOptions {
  Duration interval = std::chrono::seconds(60);  // MONITORING_INTERVAL
  std::vector<AlertRule> rules = default_rules();
};

class MonitoringService {
 public:
  MonitoringService(Clock& clock, MetricsCollector& collector, AlertManager& alerts,
                    Journal* journal = nullptr, MonitoringOptions options = {});

  // One collection; nullopt when it failed (handled: counted, journaled, alerted).
  std::optional<MetricsData> collect_metrics();
  // collect_metrics() and evaluate the rules against the result.
  void tick();
  // Ticks every interval for `span` of clock time (bounded: span / interval ticks).
  void run_for(Duration span);

  std::vector<MetricFamily> metrics() const;
  std::string exposition() const { return to_prometheus_text(metrics()); }
  // A Grafana dashboard (JSON model) with one panel per metric this service exposes.
  nlohmann::json render_dashboard() const;

 private:
  Clock& clock_;
  MetricsCollector& collector_;
  AlertManager& alerts_;
  Journal* journal_;
  MonitoringOptions options_;
  RuleEvaluator evaluator_;
  mutable std::mutex mu_;
  std::optional<MetricsData> last_;
  long collections_ = 0;
  long collection_errors_ = 0;
  bool collection_failing_ = false;
};

}  // namespace faultline::ops
