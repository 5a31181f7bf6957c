// HealthEndpoint: a service's /health and /metrics over HTTP — the two endpoints seed 000 asks of
// every service ("Every service must have health check endpoint", "All services expose
// `/metrics`").
//
//   GET /health   200 {"status":"healthy","service":S,"checks":[{"name","ok","detail","ms"}...]}
//                 503 {"status":"unhealthy", ..., "failing":["redis", ...]} when a dependency
//                 check fails, throws, or does not answer within `check_timeout` (10 s, the
//                 seed's HEALTHCHECK --timeout); the reply names each failing dependency.
//   GET /metrics  Prometheus text (format 0.0.4) from the metrics source, plus the endpoint's own
//                 faultline_health_checks_total{service,dependency,result} counter.
//
// The checks of one /health run in parallel, each on a thread of its own, and /health waits for
// them at most `check_timeout`: a check that hangs (a paused Redis, a blackholed database) makes
// /health answer 503 naming it after the timeout instead of hanging. A check still running from
// an earlier /health is waited for again, not started twice. Requests are served one at a time.
//
// Thread safety: construct, start, stop from any thread but the loop's; checks and the metrics
// source are called from the endpoint's threads and must be safe to call from them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/ops/exposition.h"

namespace faultline {
class EventLoop;
}

namespace faultline::ops {

struct CheckOutcome {
  bool ok = false;
  std::string detail;
};

struct DependencyCheck {
  std::string name;                     // "postgres", "redis", ...
  std::function<CheckOutcome()> check;  // may block; may throw (a failure naming the exception)
};

struct HealthEndpointOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::chrono::milliseconds check_timeout{10'000};
};

class HealthEndpoint {
 public:
  HealthEndpoint(EventLoop& loop, std::string service, std::vector<DependencyCheck> checks,
                 std::function<std::vector<MetricFamily>()> metrics,
                 HealthEndpointOptions options = {});
  ~HealthEndpoint();
  HealthEndpoint(const HealthEndpoint&) = delete;
  HealthEndpoint& operator=(const HealthEndpoint&) = delete;

  void start();  // throws InputError / Error as HttpServer::start does
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace faultline::ops
