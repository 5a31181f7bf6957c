#include "harness/ops/prometheus_config.h"

#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

#include "harness/core/error.h"

// The files are written as JSON, which is YAML too (flow style): no quoting rules to get wrong.
namespace faultline::ops {
namespace {

[[noreturn]] void bad(const std::string& what) {
  throw InputError({}, what);
}

std::string number(double v) {
  std::string s = nlohmann::json(v).dump();
  return s;
}

// "127.0.0.1:9090": a loopback host and a port 1..65535.
void check_address(const std::string& field, const std::string& address) {
  const auto colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
  bool digits = !port.empty() && port.size() <= 5;
  for (char c : port) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (host.empty() || !digits || std::stoi(port) < 1 || std::stoi(port) > 65535) {
    bad(field + " '" + address + "' is not host:port");
  }
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
    bad(field + " '" + address + "' is not on loopback");
  }
}

void check_positive(const std::string& field, std::chrono::milliseconds d) {
  if (d <= std::chrono::milliseconds(0)) bad(field + " must be positive");
}

}  // namespace

std::string prometheus_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1'000 == 0) return std::to_string(ms / 1'000) + "s";
  return std::to_string(ms) + "ms";
}

std::string promql_for(const AlertRule& rule) {
  const std::string op = rule.op == AlertRule::Op::above ? " > " : " < ";
  if (rule.metric == "cpu_usage")
    return "faultline_system_cpu_usage_percent" + op + number(rule.threshold);
  if (rule.metric == "memory_usage")
    return "faultline_system_memory_usage_percent" + op + number(rule.threshold);
  if (rule.metric == "disk_usage")
    return "faultline_system_disk_usage_percent" + op + number(rule.threshold);
  if (rule.metric == "response_time_ms") {  // exposed in seconds
    return "faultline_probe_response_time_seconds * 1000" + op + number(rule.threshold);
  }
  if (rule.metric == "collection_failed") {  // a failed collection in the last minute
    return "increase(faultline_monitoring_collection_errors_total[1m])" + op +
           number(rule.threshold);
  }
  bad("alert rule '" + rule.name + "': no Prometheus metric for '" + rule.metric +
      "' (expected cpu_usage, memory_usage, disk_usage, response_time_ms or collection_failed)");
}

std::string prometheus_config_yaml(const PrometheusConfig& config) {
  check_positive("scrape_interval", config.scrape_interval);
  check_positive("evaluation_interval", config.evaluation_interval);
  if (config.targets.empty()) bad("prometheus: no scrape targets");
  if (config.rules_file.empty()) bad("prometheus: no rules file");
  std::set<std::string> jobs;
  nlohmann::json scrapes = nlohmann::json::array();
  for (const auto& t : config.targets) {
    if (t.job.empty()) bad("scrape target '" + t.address + "' has no job name");
    if (!jobs.insert(t.job).second) bad("scrape job '" + t.job + "' is listed twice");
    check_address("scrape target of job '" + t.job + "'", t.address);
    if (t.metrics_path.empty() || t.metrics_path[0] != '/') {
      bad("scrape job '" + t.job + "': metrics_path '" + t.metrics_path + "' must start with /");
    }
    scrapes.push_back({{"job_name", t.job},
                       {"metrics_path", t.metrics_path},
                       {"scrape_timeout", prometheus_duration(config.scrape_interval)},
                       {"static_configs", {{{"targets", {t.address}}}}}});
  }
  nlohmann::json doc = {
      {"global",
       {{"scrape_interval", prometheus_duration(config.scrape_interval)},
        {"evaluation_interval", prometheus_duration(config.evaluation_interval)}}},
      {"rule_files", {config.rules_file}},
      {"scrape_configs", scrapes}};
  if (!config.alertmanager.empty()) {
    check_address("alertmanager", config.alertmanager);
    doc["alerting"] = {
        {"alertmanagers", {{{"static_configs", {{{"targets", {config.alertmanager}}}}}}}}};
  }
  return doc.dump(2) + "\n";
}

std::string prometheus_rules_yaml(const std::vector<AlertRule>& rules) {
  nlohmann::json list = nlohmann::json::array();
  std::set<std::string> names;
  for (const auto& r : rules) {
    if (r.name.empty()) bad("an alert rule has no name");
    if (!names.insert(r.name).second) bad("alert rule '" + r.name + "' is listed twice");
    if (r.for_duration < Duration::zero()) bad("alert rule '" + r.name + "': negative for");
    nlohmann::json labels = r.labels;
    labels["severity"] = std::string(to_string(r.severity));
    list.push_back(
        {{"alert", r.name},
         {"expr", promql_for(r)},
         {"for", prometheus_duration(
                     std::chrono::duration_cast<std::chrono::milliseconds>(r.for_duration))},
         {"labels", labels},
         {"annotations", {{"summary", r.summary}}}});
  }
  if (names.count("ScrapeTargetDown"))
    bad("alert rule 'ScrapeTargetDown' is generated; rename yours");
  list.push_back({{"alert", "ScrapeTargetDown"},
                  {"expr", "up == 0"},
                  {"for", "0s"},
                  {"labels", {{"severity", "critical"}}},
                  {"annotations", {{"summary", "a scrape of {{ $labels.job }} failed"}}}});
  return nlohmann::json({{"groups", {{{"name", "faultline"}, {"rules", list}}}}}).dump(2) + "\n";
}

std::string alertmanager_config_yaml(const AlertmanagerConfig& config) {
  check_positive("group_wait", config.group_wait);
  check_positive("group_interval", config.group_interval);
  check_positive("repeat_interval", config.repeat_interval);
  const std::string prefix = "http://";
  if (config.webhook_url.rfind(prefix, 0) != 0) {
    bad("webhook url '" + config.webhook_url + "' is not http://host:port/path");
  }
  const std::string rest = config.webhook_url.substr(prefix.size());
  check_address("webhook url", rest.substr(0, rest.find('/')));
  nlohmann::json doc = {
      {"route",
       {{"receiver", "faultline-webhook"},
        {"group_by", {"alertname"}},
        {"group_wait", prometheus_duration(config.group_wait)},
        {"group_interval", prometheus_duration(config.group_interval)},
        {"repeat_interval", prometheus_duration(config.repeat_interval)}}},
      {"receivers",
       {{{"name", "faultline-webhook"},
         {"webhook_configs", {{{"url", config.webhook_url}, {"send_resolved", false}}}}}}}};
  return doc.dump(2) + "\n";
}

}  // namespace faultline::ops
