// Alert rules and their evaluation.
//
// A rule watches one metric against a threshold and fires once the condition has held for its
// for-duration (as Prometheus's `for:`), with a severity: critical (page), warning (chat) or info
// (log), as seed 000 sorts alerts. The evaluator turns a stream of metric values, timestamped on
// the harness Clock, into alert transitions: firing when the condition has held long enough,
// resolved when it stops holding. default_rules() are the thresholds the seeds give (seed 003:
// disk 70%/85%, memory 80%/90%; seed 000: latency over 1 s; collection failures).
//
// Thread safety: a RuleEvaluator is used from one thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/clock.h"

namespace faultline::ops {

enum class Severity { info, warning, critical };
std::string_view to_string(Severity severity);

struct AlertRule {
  enum class Op { above, below };
  std::string name;    // e.g. "HighMemoryUsage"
  std::string metric;  // a key of the values given to evaluate(), e.g. "memory_usage"
  Op op = Op::above;
  double threshold = 0;
  Duration for_duration{0};
  Severity severity = Severity::warning;
  std::map<std::string, std::string> labels;
  std::string summary;
};

struct Alert {
  std::string rule;
  Severity severity = Severity::warning;
  std::map<std::string, std::string> labels;  // the rule's labels plus alertname and severity
  double value = 0;
  TimePoint active_since{};  // when the condition started to hold
  TimePoint at{};            // when this transition happened
  bool resolved = false;
  std::string summary;

  // Identity for deduplication: the label set, as Alertmanager groups by labels.
  std::string fingerprint() const;
};

class RuleEvaluator {
 public:
  explicit RuleEvaluator(std::vector<AlertRule> rules);
  // Feeds the current values; returns the alerts that started firing or resolved now. A metric
  // missing from `values` leaves its rules as they were.
  std::vector<Alert> evaluate(const std::map<std::string, double>& values, TimePoint now);
  const std::vector<AlertRule>& rules() const { return rules_; }

 private:
  struct State {
    std::optional<TimePoint> holding_since;
    bool firing = false;
  };
  std::vector<AlertRule> rules_;
  std::vector<State> states_;
};

std::vector<AlertRule> default_rules();

}  // namespace faultline::ops
