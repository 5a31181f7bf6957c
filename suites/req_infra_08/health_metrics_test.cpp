// REQ-INFRA-08 over HTTP: a service's /health names a failing dependency within the health check
// timeout, and its /metrics is Prometheus text with seed 000's names — scraped as a monitoring
// system would, from a HealthEndpoint in front of a Redis fake and a MonitoringService.
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "fakes/redis/server.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/ops/exposition.h"
#include "harness/ops/health_endpoint.h"
#include "harness/testing/covers.h"
#include "harness/testing/net_testing.h"

namespace faultline::ops {
namespace {

using faultline::testing::http;

// PING over RESP with a bounded wait: the dependency check a cache-backed service runs.
CheckOutcome ping_redis(std::uint16_t port, std::chrono::milliseconds bound) {
  int err = 0;
  auto fd = faultline::testing::connect_local(port, &err);
  if (!fd) return {false, std::string("connect: ") + std::strerror(err)};
  faultline::testing::send_all(fd.get(), "PING\r\n");
  const auto r = faultline::testing::read_until(fd.get(), 7, bound);
  if (r.data == "+PONG\r\n") return {true, "PONG"};
  return {false, r.timed_out ? "no reply" : "reply: " + r.data};
}

class HealthMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fakes::redis::RedisFakeOptions options;
    options.seed = 8;
    redis = std::make_unique<fakes::redis::RedisFake>(loop, clock, options);
    redis->start();
  }
  void TearDown() override { redis->heal_all(); }

  HealthEndpoint endpoint_with_redis_check(std::chrono::milliseconds timeout) {
    const std::uint16_t port = redis->port();
    HealthEndpointOptions options;
    options.check_timeout = timeout;
    return HealthEndpoint(
        http_loop, "orders",
        {{"redis", [port] { return ping_redis(port, std::chrono::seconds(30)); }}},
        [] { return std::vector<MetricFamily>{}; }, options);
  }

  ManualClock clock;
  EventLoop loop;       // the Redis fake's
  EventLoop http_loop;  // the service's
  std::unique_ptr<fakes::redis::RedisFake> redis;
};

TEST_F(HealthMetricsTest, HealthIsHealthyWhileItsDependencyAnswers) {
  FAULTLINE_COVERS("ET-INFRA-08.1");
  auto endpoint = endpoint_with_redis_check(std::chrono::seconds(10));
  endpoint.start();
  const auto r = http(endpoint.port(), "GET", "/health");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["status"], "healthy");
  EXPECT_EQ(body["service"], "orders");
  EXPECT_EQ(body["checks"][0]["name"], "redis");
  EXPECT_EQ(body["checks"][0]["ok"], true);
}

TEST_F(HealthMetricsTest, ADependencyThatRefusesMakesHealthUnhealthyNamingIt) {
  FAULTLINE_COVERS("ET-INFRA-08.1");
  auto endpoint = endpoint_with_redis_check(std::chrono::seconds(10));
  endpoint.start();
  redis->refuse_connections(true);
  const auto r = http(endpoint.port(), "GET", "/health");
  ASSERT_EQ(r.status, 503) << r.body;
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["status"], "unhealthy");
  EXPECT_EQ(body["failing"], nlohmann::json::array({"redis"}));
  EXPECT_NE(body["checks"][0]["detail"].get<std::string>().find("connect"), std::string::npos);
  redis->refuse_connections(false);
  EXPECT_EQ(http(endpoint.port(), "GET", "/health").status, 200);
}

TEST_F(HealthMetricsTest, ADependencyThatHangsIsReportedWhenTheTimeoutPassesNotLater) {
  FAULTLINE_COVERS("ET-INFRA-08.1");
  // The check itself would wait 30 s; the endpoint's timeout (here 200 ms, 10 s by default)
  // decides, so /health answers unhealthy naming the dependency instead of hanging.
  auto endpoint = endpoint_with_redis_check(std::chrono::milliseconds(200));
  endpoint.start();
  redis->pause(true);
  const auto r = http(endpoint.port(), "GET", "/health");
  ASSERT_EQ(r.status, 503) << r.body;
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["failing"], nlohmann::json::array({"redis"}));
  EXPECT_NE(body["checks"][0]["detail"].get<std::string>().find("within the 200 ms timeout"),
            std::string::npos);
  // Resumed, the hung check completes and the next /health is healthy again.
  redis->pause(false);
  EXPECT_TRUE(faultline::testing::eventually(
      [&] { return http(endpoint.port(), "GET", "/health").status == 200; }));
}

TEST(HealthEndpointDefaults, TheCheckTimeoutIsTheSeedsTenSeconds) {
  FAULTLINE_COVERS("ET-INFRA-08.1");
  EXPECT_EQ(HealthEndpointOptions().check_timeout, std::chrono::seconds(10));
}

TEST_F(HealthMetricsTest, MetricsIsPrometheusTextWithTheSeedsNamingConvention) {
  FAULTLINE_COVERS("UT-INFRA-08.3");
  std::vector<MetricFamily> families = {
      {"faultline_orders_requests_total", "requests", "counter", {{{{"route", "/o"}}, 3}}},
      {"faultline_orders_latency_seconds", "latency", "gauge", {{{}, 0.25}}}};
  HealthEndpoint endpoint(http_loop, "orders", {}, [&] { return families; });
  endpoint.start();
  http(endpoint.port(), "GET", "/health");
  const auto r = http(endpoint.port(), "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("text/plain; version=0.0.4"), std::string::npos) << r.headers;
  const auto parsed = parse_prometheus_text(r.body);
  ASSERT_EQ(parsed.size(), 3u);
  for (const auto& f : parsed) EXPECT_TRUE(follows_naming_convention(f.name)) << f.name;
  EXPECT_EQ(parsed[0].samples[0].value, 3);
  EXPECT_EQ(parsed[0].samples[0].labels.at("route"), "/o");
  EXPECT_EQ(parsed[2].name, "faultline_health_checks_total");
}

TEST_F(HealthMetricsTest, UnknownPathsAndMethodsAreClearErrors) {
  HealthEndpoint endpoint(http_loop, "orders", {}, nullptr);
  endpoint.start();
  EXPECT_EQ(http(endpoint.port(), "GET", "/healthz").status, 404);
  EXPECT_EQ(http(endpoint.port(), "POST", "/health").status, 405);
  EXPECT_EQ(http(endpoint.port(), "GET", "/health").status, 200);  // no dependencies: healthy
}

}  // namespace
}  // namespace faultline::ops
