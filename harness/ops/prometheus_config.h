// Prometheus and Alertmanager configuration generated from faultline's own monitoring model, so a
// real Prometheus scrapes the stack's /metrics endpoints and evaluates the same alert rules the
// MonitoringService does, and a real Alertmanager routes what fires to a webhook:
//
//   prometheus_config_yaml()   prometheus.yml: scrape/evaluation intervals, one job per target,
//                              the rules file, the Alertmanager to send to;
//   prometheus_rules_yaml()    a rule group in Prometheus's rule format: each AlertRule as
//                              `alert/expr/for/labels/annotations`, its metric key turned into the
//                              PromQL of the family the MonitoringService exposes, plus
//                              ScrapeTargetDown (`up == 0`) so a failed scrape raises its own
//                              alert;
//   alertmanager_config_yaml() alertmanager.yml: one route to one webhook receiver, grouped by
//                              alertname, with repeat_interval = ALERT_COOLDOWN (300 s): an alert
//                              that keeps firing is not notified again before the cooldown ends,
//                              and identical alerts (same labels) are one notification.
//
// Every generator validates its input and throws InputError naming the bad field (an empty job,
// a target that is not host:port, a non-positive interval, a receiver URL that is not loopback
// http, a rule on a metric the MonitoringService does not expose).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "harness/ops/alerts.h"

namespace faultline::ops {

struct ScrapeTarget {
  std::string job;      // e.g. "redis" — becomes the `job` label
  std::string address;  // "127.0.0.1:PORT"
  std::string metrics_path = "/metrics";
};

struct PrometheusConfig {
  std::vector<ScrapeTarget> targets;
  std::chrono::milliseconds scrape_interval{1'000};
  std::chrono::milliseconds evaluation_interval{1'000};
  std::string alertmanager;  // "127.0.0.1:PORT"; empty: no alerting section
  std::string rules_file = "rules.yml";
};

struct AlertmanagerConfig {
  std::string webhook_url;  // http://127.0.0.1:PORT/path
  std::chrono::milliseconds group_wait{1'000};
  std::chrono::milliseconds group_interval{1'000};
  std::chrono::milliseconds repeat_interval{300'000};  // ALERT_COOLDOWN
};

// The PromQL of `rule` over the MonitoringService's families (e.g. memory_usage above 80 ->
// "faultline_system_memory_usage_percent > 80"); throws InputError for an unknown metric.
std::string promql_for(const AlertRule& rule);

std::string prometheus_config_yaml(const PrometheusConfig& config);
std::string prometheus_rules_yaml(const std::vector<AlertRule>& rules);
std::string alertmanager_config_yaml(const AlertmanagerConfig& config);

// "1500ms", "2s", "5m" — Prometheus's duration syntax (whole milliseconds).
std::string prometheus_duration(std::chrono::milliseconds d);

}  // namespace faultline::ops
