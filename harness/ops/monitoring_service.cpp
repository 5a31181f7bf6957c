#include "harness/ops/monitoring_service.h"

#include "harness/core/error.h"
#include "harness/core/log.h"

namespace faultline::ops {

MonitoringService::MonitoringService(Clock& clock, MetricsCollector& collector,
                                     AlertManager& alerts, Journal* journal,
                                     MonitoringOptions options)
    : clock_(clock),
      collector_(collector),
      alerts_(alerts),
      journal_(journal),
      options_(std::move(options)),
      evaluator_(options_.rules) {
  if (options_.interval <= Duration::zero()) {
    throw InputError({}, "monitoring interval must be positive");
  }
}

std::optional<MetricsData> MonitoringService::collect_metrics() {
  try {
    MetricsData m = collector_.collect();
    std::lock_guard lock(mu_);
    ++collections_;
    collection_failing_ = false;
    last_ = m;
    if (journal_) {
      journal_->append(event_kind::kProbe, "system",
                       {{"cpu_usage", m.cpu_usage},
                        {"memory_usage", m.memory_usage},
                        {"disk_usage", m.disk_usage},
                        {"response_time_ms", m.response_time_ms}});
    }
    return m;
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    ++collection_errors_;
    collection_failing_ = true;
    log::warn("monitoring", "metrics collection failed", {{"error", e.what()}});
    if (journal_) journal_->append("probe.failed", "system", {{"error", e.what()}});
    return std::nullopt;
  }
}

void MonitoringService::tick() {
  const auto m = collect_metrics();
  std::map<std::string, double> values;
  if (m) {
    values = {{"cpu_usage", m->cpu_usage},
              {"memory_usage", m->memory_usage},
              {"disk_usage", m->disk_usage},
              {"response_time_ms", static_cast<double>(m->response_time_ms)},
              {"collection_failed", 0}};
  } else {
    values = {{"collection_failed", 1}};
  }
  for (const Alert& alert : evaluator_.evaluate(values, clock_.now())) alerts_.submit(alert);
}

void MonitoringService::run_for(Duration span) {
  const auto ticks = span / options_.interval;
  for (std::int64_t i = 0; i < ticks; ++i) {
    tick();
    clock_.sleep_for(options_.interval);
  }
}

std::vector<MetricFamily> MonitoringService::metrics() const {
  std::lock_guard lock(mu_);
  std::vector<MetricFamily> f;
  if (last_) {
    f.push_back({"faultline_system_cpu_usage_percent",
                 "CPU busy since the previous collection",
                 "gauge",
                 {{{}, last_->cpu_usage}}});
    f.push_back({"faultline_system_memory_usage_percent",
                 "Memory not available",
                 "gauge",
                 {{{}, last_->memory_usage}}});
    f.push_back({"faultline_system_disk_usage_percent",
                 "Monitored filesystem used",
                 "gauge",
                 {{{}, last_->disk_usage}}});
    f.push_back({"faultline_probe_response_time_seconds",
                 "Slowest health probe of a collection",
                 "gauge",
                 {{{}, static_cast<double>(last_->response_time_ms) / 1000.0}}});
  }
  f.push_back({"faultline_monitoring_collections_total",
               "Successful metric collections",
               "counter",
               {{{}, static_cast<double>(collections_)}}});
  f.push_back({"faultline_monitoring_collection_errors_total",
               "Failed metric collections",
               "counter",
               {{{}, static_cast<double>(collection_errors_)}}});
  const auto c = alerts_.counts();
  f.push_back({"faultline_alerts_notifications_total",
               "Alert decisions by outcome",
               "counter",
               {{{{"outcome", "delivered"}}, static_cast<double>(c.delivered)},
                {{{"outcome", "duplicate"}}, static_cast<double>(c.duplicates)},
                {{{"outcome", "cooling_down"}}, static_cast<double>(c.cooling_down)},
                {{{"outcome", "rate_limited"}}, static_cast<double>(c.rate_limited)},
                {{{"outcome", "failed"}}, static_cast<double>(c.failures)}}});
  return f;
}

nlohmann::json MonitoringService::render_dashboard() const {
  nlohmann::json panels = nlohmann::json::array();
  int id = 1, y = 0;
  for (const auto& family : metrics()) {
    const bool percent = family.name.ends_with("_percent");
    const std::string expr =
        family.type == "counter" ? "rate(" + family.name + "[5m])" : family.name;
    nlohmann::json panel = {
        {"id", id++},
        {"type", "timeseries"},
        {"title", family.help},
        {"datasource", {{"type", "prometheus"}, {"uid", "${DS_PROMETHEUS}"}}},
        {"gridPos", {{"h", 8}, {"w", 12}, {"x", (id % 2) ? 12 : 0}, {"y", y}}},
        {"targets", {{{"refId", "A"}, {"expr", expr}, {"legendFormat", "{{outcome}}"}}}},
        {"fieldConfig",
         {{"defaults",
           {{"unit", percent                             ? "percent"
                     : family.name.ends_with("_seconds") ? "s"
                                                         : "short"}}}}}};
    if (percent) panel["fieldConfig"]["defaults"]["max"] = 100;
    if (id % 2) y += 8;
    panels.push_back(std::move(panel));
  }
  return {{"title", "faultline — system and alerts"},
          {"uid", "faultline-system"},
          {"schemaVersion", 38},
          {"refresh", "30s"},
          {"time", {{"from", "now-1h"}, {"to", "now"}}},
          {"panels", panels}};
}

}  // namespace faultline::ops
