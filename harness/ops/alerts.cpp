#include "harness/ops/alerts.h"

namespace faultline::ops {

using namespace std::chrono_literals;

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::critical:
      return "critical";
  }
  return "warning";
}

std::string Alert::fingerprint() const {
  std::string f;
  for (const auto& [k, v] : labels) f += k + "=" + v + ";";
  return f;
}

RuleEvaluator::RuleEvaluator(std::vector<AlertRule> rules)
    : rules_(std::move(rules)), states_(rules_.size()) {}

std::vector<Alert> RuleEvaluator::evaluate(const std::map<std::string, double>& values,
                                           TimePoint now) {
  std::vector<Alert> transitions;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const AlertRule& rule = rules_[i];
    State& st = states_[i];
    auto it = values.find(rule.metric);
    if (it == values.end()) continue;
    const double v = it->second;
    const bool holds = rule.op == AlertRule::Op::above ? v > rule.threshold : v < rule.threshold;
    auto make = [&](bool resolved) {
      Alert a;
      a.rule = rule.name;
      a.severity = rule.severity;
      a.labels = rule.labels;
      a.labels["alertname"] = rule.name;
      a.labels["severity"] = std::string(to_string(rule.severity));
      a.value = v;
      a.active_since = st.holding_since.value_or(now);
      a.at = now;
      a.resolved = resolved;
      a.summary = rule.summary;
      return a;
    };
    if (holds) {
      if (!st.holding_since) st.holding_since = now;
      if (!st.firing && now - *st.holding_since >= rule.for_duration) {
        st.firing = true;
        transitions.push_back(make(false));
      }
    } else {
      if (st.firing) transitions.push_back(make(true));
      st.firing = false;
      st.holding_since.reset();
    }
  }
  return transitions;
}

std::vector<AlertRule> default_rules() {
  using Op = AlertRule::Op;
  return {
      {"DiskUsageHigh", "disk_usage", Op::above, 70, 0s, Severity::warning, {}, "disk above 70%"},
      {"DiskUsageCritical",
       "disk_usage",
       Op::above,
       85,
       0s,
       Severity::critical,
       {},
       "disk above 85%"},
      {"MemoryUsageHigh",
       "memory_usage",
       Op::above,
       80,
       0s,
       Severity::warning,
       {},
       "memory above 80%"},
      {"MemoryUsageCritical",
       "memory_usage",
       Op::above,
       90,
       0s,
       Severity::critical,
       {},
       "memory above 90%"},
      {"HighLatency",
       "response_time_ms",
       Op::above,
       1000,
       0s,
       Severity::warning,
       {},
       "a health probe took over 1 s"},
      {"MetricsCollectionFailed",
       "collection_failed",
       Op::above,
       0,
       0s,
       Severity::warning,
       {},
       "system metrics could not be collected"},
  };
}

}  // namespace faultline::ops
