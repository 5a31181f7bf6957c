#include "harness/ops/health_endpoint.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "harness/core/http_server.h"

namespace faultline::ops {

namespace {

// One run of one check, shared by the thread running it and the /health requests waiting for it.
struct Run {
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  CheckOutcome outcome;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point finished;
};

}  // namespace

struct HealthEndpoint::Impl {
  Impl(EventLoop& l, std::string s, std::vector<DependencyCheck> c,
       std::function<std::vector<MetricFamily>()> m, HealthEndpointOptions o)
      : loop(l), service(std::move(s)), metrics(std::move(m)), options(std::move(o)) {
    for (auto& check : c) {
      checks.push_back(std::make_shared<const DependencyCheck>(std::move(check)));
    }
  }

  EventLoop& loop;
  std::string service;
  std::vector<std::shared_ptr<const DependencyCheck>> checks;
  std::function<std::vector<MetricFamily>()> metrics;
  HealthEndpointOptions options;
  std::map<std::string, std::shared_ptr<Run>> running;           // loop thread only
  std::map<std::pair<std::string, std::string>, double> counts;  // (dependency, result) -> n
  std::mutex counts_mu;
  std::optional<HttpServer> server;

  std::shared_ptr<Run> launch(const std::shared_ptr<const DependencyCheck>& check) {
    auto& slot = running[check->name];
    if (slot) {
      std::lock_guard lock(slot->mu);
      if (!slot->done) return slot;  // still running from an earlier /health
    }
    auto run = std::make_shared<Run>();
    slot = run;
    std::thread([run, check] {
      CheckOutcome outcome;
      try {
        outcome = check->check();
      } catch (const std::exception& e) {
        outcome = {false, std::string("check threw: ") + e.what()};
      }
      std::lock_guard lock(run->mu);
      run->outcome = std::move(outcome);
      run->done = true;
      run->finished = std::chrono::steady_clock::now();
      run->done_cv.notify_all();
    }).detach();
    return run;
  }

  HttpReply health() {
    std::vector<std::shared_ptr<Run>> runs;
    for (const auto& check : checks) runs.push_back(launch(check));
    const auto deadline = std::chrono::steady_clock::now() + options.check_timeout;
    nlohmann::json results = nlohmann::json::array();
    nlohmann::json failing = nlohmann::json::array();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      Run& run = *runs[i];
      std::unique_lock lock(run.mu);
      run.done_cv.wait_until(lock, deadline, [&] { return run.done; });
      CheckOutcome outcome = run.outcome;
      double ms = 0;
      if (!run.done) {
        outcome = {false, "no answer within the " + std::to_string(options.check_timeout.count()) +
                              " ms timeout"};
        ms = static_cast<double>(options.check_timeout.count());
      } else {
        ms = std::chrono::duration<double, std::milli>(run.finished - run.started).count();
      }
      const std::string& name = checks[i]->name;
      results.push_back(
          {{"name", name}, {"ok", outcome.ok}, {"detail", outcome.detail}, {"ms", ms}});
      if (!outcome.ok) failing.push_back(name);
      std::lock_guard count_lock(counts_mu);
      counts[{name, outcome.ok ? "ok" : "failed"}] += 1;
    }
    const bool healthy = failing.empty();
    nlohmann::json body = {
        {"status", healthy ? "healthy" : "unhealthy"}, {"service", service}, {"checks", results}};
    if (!healthy) body["failing"] = failing;
    return HttpReply::json(healthy ? 200 : 503, body);
  }

  HttpReply metrics_reply() {
    std::vector<MetricFamily> families = metrics ? metrics() : std::vector<MetricFamily>{};
    MetricFamily own{"faultline_health_checks_total",
                     "Dependency checks answered by /health, by result",
                     "counter",
                     {}};
    {
      std::lock_guard lock(counts_mu);
      for (const auto& [key, n] : counts) {
        own.samples.push_back(
            {{{"service", service}, {"dependency", key.first}, {"result", key.second}}, n});
      }
    }
    families.push_back(std::move(own));
    return HttpReply::text(200, to_prometheus_text(families), "text/plain; version=0.0.4");
  }

  HttpReply route(const HttpRequest& req) {
    if (req.path == "/health" || req.path == "/metrics") {
      if (req.method != "GET" && req.method != "HEAD") return HttpReply::error(405, "use GET");
      return req.path == "/health" ? health() : metrics_reply();
    }
    return HttpReply::error(404, "no such resource: " + req.path + " (try /health, /metrics)");
  }
};

HealthEndpoint::HealthEndpoint(EventLoop& loop, std::string service,
                               std::vector<DependencyCheck> checks,
                               std::function<std::vector<MetricFamily>()> metrics,
                               HealthEndpointOptions options)
    : impl_(std::make_shared<Impl>(loop, std::move(service), std::move(checks), std::move(metrics),
                                   std::move(options))) {
  HttpServerOptions http;
  http.host = impl_->options.host;
  http.port = impl_->options.port;
  http.server_name = "faultline-" + impl_->service;
  Impl* impl = impl_.get();
  impl_->server.emplace(
      loop, [impl](const HttpRequest& req) { return impl->route(req); }, http);
}

HealthEndpoint::~HealthEndpoint() {
  impl_->server.reset();
}

void HealthEndpoint::start() {
  impl_->server->start();
}

void HealthEndpoint::stop() {
  impl_->server->stop();
}

std::uint16_t HealthEndpoint::port() const {
  return impl_->server->port();
}

}  // namespace faultline::ops
