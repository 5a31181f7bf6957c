// Bad input to the monitoring configuration is rejected with a message naming the problem: the
// ServiceExporter's services and timeouts, the generated Prometheus and Alertmanager files. Also
// what the generators and the service readers' parsers produce for good input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/core/error.h"
#include "harness/ops/prometheus_config.h"
#include "harness/ops/service_exporter.h"

namespace faultline::ops {
namespace {

using namespace std::chrono_literals;

std::string rejection(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

ServiceAddress address(std::string kind, std::string host, int port) {
  ServiceAddress a;
  a.kind = std::move(kind);
  a.host = std::move(host);
  a.port = port;
  return a;
}
ExportedService redis(std::string name, int port) {
  return {std::move(name), address("redis", "127.0.0.1", port)};
}

TEST(ServiceExporterConfig, InvalidConfigurationIsRejectedNamingTheProblem) {
  auto make = [](std::vector<ExportedService> s, ServiceExporterOptions o = {}) {
    return [s, o] { ServiceExporter e(s, o); };
  };
  EXPECT_NE(rejection(make({})).find("no services"), std::string::npos);
  EXPECT_NE(rejection(make({redis("", 6379)})).find("no name"), std::string::npos);
  EXPECT_NE(rejection(make({redis("a", 6379), redis("a", 6380)})).find("'a' is listed twice"),
            std::string::npos);
  EXPECT_NE(rejection(make({redis("a", 0)})).find("port 0"), std::string::npos);
  EXPECT_NE(rejection(make({redis("a", 70000)})).find("port 70000"), std::string::npos);
  EXPECT_NE(rejection(make({{"k", address("kafka", "", 0)}})).find("no bootstrap"),
            std::string::npos);
  EXPECT_NE(rejection(make({{"x", address("", "127.0.0.1", 1)}})).find("no kind"),
            std::string::npos);
  ServiceExporterOptions slow;
  slow.read_timeout = 20s;
  EXPECT_NE(rejection(make({redis("a", 6379)}, slow)).find("longer than check_timeout"),
            std::string::npos);
  ServiceExporterOptions zero;
  zero.check_timeout = 0ms;
  EXPECT_NE(rejection(make({redis("a", 6379)}, zero)).find("check_timeout must be positive"),
            std::string::npos);
  EXPECT_EQ(rejection(make({redis("a", 6379)})), "");
}

TEST(ServiceReaders, ParseRedisInfoAndClientList) {
  const auto info =
      parse_redis_info("# Memory\r\nused_memory:1024\r\n\r\n# Stats\r\nevicted_keys:3\r\n");
  EXPECT_EQ(info.at("used_memory"), "1024");
  EXPECT_EQ(info.at("evicted_keys"), "3");
  const auto clients =
      parse_client_list("id=3 addr=127.0.0.1:5 name=req-1 cmd=set\nid=4 addr=x name= cmd=ping\n");
  ASSERT_EQ(clients.size(), 2u);
  EXPECT_EQ(clients[0].at("name"), "req-1");
  EXPECT_EQ(clients[0].at("cmd"), "set");
  EXPECT_EQ(clients[1].at("name"), "");
}

TEST(PrometheusConfig, RulesBecomePromqlOverTheExposedFamilies) {
  const auto rules = nlohmann::json::parse(prometheus_rules_yaml(default_rules()));
  const auto& list = rules["groups"][0]["rules"];
  bool latency = false, down = false;
  for (const auto& r : list) {
    if (r["alert"] == "HighLatency") {
      latency = true;
      EXPECT_EQ(r["expr"], "faultline_probe_response_time_seconds * 1000 > 1000.0");
      EXPECT_EQ(r["labels"]["severity"], "warning");
    }
    if (r["alert"] == "ScrapeTargetDown") {
      down = true;
      EXPECT_EQ(r["expr"], "up == 0");
    }
  }
  EXPECT_TRUE(latency && down);
  EXPECT_EQ(prometheus_duration(1500ms), "1500ms");
  EXPECT_EQ(prometheus_duration(300s), "5m");
  AlertmanagerConfig am;
  am.webhook_url = "http://127.0.0.1:9000/alerts";
  const auto doc = nlohmann::json::parse(alertmanager_config_yaml(am));
  EXPECT_EQ(doc["route"]["repeat_interval"], "5m") << "ALERT_COOLDOWN";
  EXPECT_EQ(doc["route"]["group_by"], nlohmann::json::array({"alertname"}));
}

TEST(PrometheusConfig, InvalidConfigurationIsRejectedNamingTheProblem) {
  PrometheusConfig pc;
  EXPECT_NE(rejection([&] { prometheus_config_yaml(pc); }).find("no scrape targets"),
            std::string::npos);
  pc.targets = {{"redis", "10.0.0.5:9121"}};
  EXPECT_NE(rejection([&] { prometheus_config_yaml(pc); }).find("not on loopback"),
            std::string::npos);
  pc.targets = {{"redis", "127.0.0.1"}};
  EXPECT_NE(rejection([&] { prometheus_config_yaml(pc); }).find("not host:port"),
            std::string::npos);
  pc.targets = {{"redis", "127.0.0.1:9121"}, {"redis", "127.0.0.1:9122"}};
  EXPECT_NE(rejection([&] { prometheus_config_yaml(pc); }).find("listed twice"), std::string::npos);
  pc.targets = {{"redis", "127.0.0.1:9121"}};
  pc.scrape_interval = 0ms;
  EXPECT_NE(rejection([&] { prometheus_config_yaml(pc); }).find("scrape_interval"),
            std::string::npos);
  AlertRule unknown{"Odd", "gpu_temperature", AlertRule::Op::above, 90, 0s, Severity::critical, {},
                    ""};
  EXPECT_NE(rejection([&] { prometheus_rules_yaml({unknown}); }).find("'gpu_temperature'"),
            std::string::npos);
  AlertmanagerConfig am;
  am.webhook_url = "https://hooks.example.com/x";
  EXPECT_NE(rejection([&] { alertmanager_config_yaml(am); }).find("not http://"),
            std::string::npos);
  am.webhook_url = "http://127.0.0.1:9000/alerts";
  am.repeat_interval = -1s;
  EXPECT_NE(rejection([&] { alertmanager_config_yaml(am); }).find("repeat_interval"),
            std::string::npos);
}

}  // namespace
}  // namespace faultline::ops
