#include "suites/req_infra_04/prometheus_world.h"

#include <unistd.h>

#include <fstream>

#include "harness/core/error.h"
#include "harness/core/ports.h"
#include "harness/testing/net_testing.h"

namespace faultline::ops::testing {
namespace {

namespace fs = std::filesystem;

const char* const kPrometheus = "/usr/bin/prometheus";
const char* const kAlertmanager = "/usr/bin/prometheus-alertmanager";
const char* const kNodeExporter = "/usr/bin/prometheus-node-exporter";

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw Error("cannot write " + path.string());
}

}  // namespace

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

WebhookReceiver::WebhookReceiver() {
  HttpServerOptions o;
  o.host = "127.0.0.1";
  server_ = std::make_unique<HttpServer>(
      loop_,
      [this](const HttpRequest& req) {
        if (req.method != "POST") return HttpReply::error(405, "POST only");
        Notification n{std::chrono::steady_clock::now(),
                       nlohmann::json::parse(req.body, nullptr, false)};
        std::lock_guard lock(mu_);
        received_.push_back(std::move(n));
        return HttpReply::json(200, {{"ok", true}});
      },
      o);
  server_->start();
}

std::vector<Notification> WebhookReceiver::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::vector<Notification> WebhookReceiver::for_alert(const std::string& name) const {
  std::vector<Notification> out;
  for (auto& n : received()) {
    if (n.body.is_object() &&
        n.body.value("groupLabels", nlohmann::json::object()).value("alertname", "") == name) {
      out.push_back(n);
    }
  }
  return out;
}

std::optional<std::string> PrometheusWorld::unavailable() {
  for (const char* bin : {kPrometheus, kAlertmanager, kNodeExporter}) {
    if (::access(bin, X_OK) != 0) {
      return std::string(bin) +
             " is not installed (Debian packages prometheus, prometheus-alertmanager, "
             "prometheus-node-exporter)";
    }
  }
  return std::nullopt;
}

PrometheusWorld::PrometheusWorld(RunDirectory& run, PrometheusWorldOptions options) : run_(run) {
  const fs::path dir = run.path() / "prometheus-world";
  fs::create_directories(dir / "prometheus-data");
  fs::create_directories(dir / "alertmanager-data");

  canary_ =
      std::make_unique<HealthEndpoint>(canary_loop_, canary_job(), std::vector<DependencyCheck>{},
                                       [] { return std::vector<MetricFamily>{}; });
  canary_->start();

  prometheus_port_ = pick_free_port();
  alertmanager_port_ = pick_free_port();
  node_port_ = pick_free_port();

  PrometheusConfig pc;
  pc.targets = options.targets;
  pc.targets.push_back({"node", "127.0.0.1:" + std::to_string(node_port_)});
  pc.targets.push_back({canary_job(), "127.0.0.1:" + std::to_string(canary_->port())});
  pc.scrape_interval = options.scrape_interval;
  pc.evaluation_interval = options.scrape_interval;
  pc.alertmanager = "127.0.0.1:" + std::to_string(alertmanager_port_);
  write_file(dir / "prometheus.yml", prometheus_config_yaml(pc));
  write_file(dir / "rules.yml", prometheus_rules_yaml(options.rules));
  AlertmanagerConfig ac = options.alertmanager;
  ac.webhook_url = "http://127.0.0.1:" + std::to_string(receiver_.port()) + "/alerts";
  write_file(dir / "alertmanager.yml", alertmanager_config_yaml(ac));

  Supervisor supervisor(run);
  children_.push_back(supervisor.spawn(
      {{kNodeExporter, "--web.listen-address=127.0.0.1:" + std::to_string(node_port_),
        "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
        "--collector.filesystem"},
       {},
       dir,
       dir / "node-exporter.out",
       dir / "node-exporter.err"}));
  children_.push_back(supervisor.spawn(
      {{kAlertmanager, "--config.file=" + (dir / "alertmanager.yml").string(),
        "--storage.path=" + (dir / "alertmanager-data").string(),
        "--web.listen-address=127.0.0.1:" + std::to_string(alertmanager_port_),
        "--cluster.listen-address="},  // no gossip port: a single instance, loopback only
       {},
       dir,
       dir / "alertmanager.out",
       dir / "alertmanager.err"}));
  children_.push_back(
      supervisor.spawn({{kPrometheus, "--config.file=" + (dir / "prometheus.yml").string(),
                         "--storage.tsdb.path=" + (dir / "prometheus-data").string(),
                         "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_),
                         "--rules.alert.resend-delay=1s"},
                        {},
                        dir,
                        dir / "prometheus.out",
                        dir / "prometheus.err"}));
}

PrometheusWorld::~PrometheusWorld() {
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    it->terminate(std::chrono::seconds(10));
  }
  canary_->stop();
}

void PrometheusWorld::wait_ready(std::chrono::milliseconds bound) {
  using faultline::testing::http;
  const bool ready = faultline::testing::eventually(
      [&] {
        for (auto& c : children_) {
          if (!c.running()) return true;  // it exited: stop waiting and say so below
        }
        return http(prometheus_port_, "GET", "/-/ready").status == 200 &&
               http(alertmanager_port_, "GET", "/-/ready").status == 200;
      },
      bound);
  for (auto& c : children_) {
    if (!c.running()) {
      throw Error("a monitoring process exited early: " + c.exit_status()->str() + " (see " +
                  (run_.path() / "prometheus-world").string() + ")");
    }
  }
  if (!ready) throw Error("Prometheus or Alertmanager not ready within the bound");
}

nlohmann::json PrometheusWorld::query(const std::string& promql) const {
  const auto r = faultline::testing::http(prometheus_port_, "GET",
                                          "/api/v1/query?query=" + url_encode(promql));
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status != 200 || !body.is_object() || body.value("status", "") != "success") {
    throw Error("query '" + promql + "' failed: HTTP " + std::to_string(r.status) + " " + r.body);
  }
  return body["data"];
}

std::optional<double> PrometheusWorld::scalar(const std::string& promql) const {
  const auto data = query(promql);
  if (data["result"].empty()) return std::nullopt;
  return std::stod(data["result"][0]["value"][1].get<std::string>());
}

int PrometheusWorld::post_alerts(const nlohmann::json& alerts) const {
  return faultline::testing::http(alertmanager_port_, "POST", "/api/v2/alerts", alerts.dump(),
                                  "Content-Type: application/json\r\n")
      .status;
}

}  // namespace faultline::ops::testing
