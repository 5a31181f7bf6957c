// IT-INFRA-08 against a running stack (the default stack file, brought up by the StackEnvironment
// through StackSession and the Orchestrator on $FAULTLINE_BACKEND: fake or local). StackSession
// starts a ServiceExporter in front of every service; the tests scrape each service's /health and
// /metrics as a monitoring system would, and run a workload whose requests carry known secrets
// (canary values in the environment) and a correlation id:
//   - the application logs each step inside a CorrelationScope;
//   - it names its Redis connection (CLIENT SETNAME) and its PostgreSQL session
//     (application_name) after the correlation id, so the servers know which request a command
//     belongs to;
//   - the exporter logs what each server reports for its named sessions (the statement, the
//     command) under that id.
// Every line is collected as JSON; one request's lines span app, redis and postgres under one
// correlation_id, and no canary value appears in any line.
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <stdlib.h>

#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/backends/hooks.h"
#include "harness/core/log.h"
#include "harness/core/redact.h"
#include "harness/ops/exposition.h"
#include "harness/testing/covers.h"
#include "harness/testing/net_testing.h"
#include "harness/testing/stack_environment.h"

namespace faultline::ops {
namespace {

using faultline::testing::http;
using faultline::testing::test_stack;

// Known secrets, put in the environment before anything reads it (the Redactor builds its list
// from the environment on first use).
constexpr const char* kApiKey = "canary-api-key-3f9a7c21e4";
constexpr const char* kAccount = "canary-account-DE89370400440532013000";
constexpr const char* kDbPassword = "canary-db-password-a81b";
[[maybe_unused]] const bool canaries_set = [] {
  ::setenv("FAULTLINE_CANARY_API_KEY", kApiKey, 1);
  ::setenv("FAULTLINE_CANARY_ACCOUNT_SECRET", kAccount, 1);
  ::setenv("FAULTLINE_CANARY_DB_PASSWORD", kDbPassword, 1);
  return true;
}();

FAULTLINE_STACK_ENVIRONMENT("req_infra_08_stack", "fixtures/stacks/default.yaml");

// What the exporter must show for each kind of service beyond its own up/duration families.
std::string family_of_kind(const std::string& kind) {
  if (kind == "redis") return "redis_memory_used_bytes";
  if (kind == "postgres") return "postgres_connections_used_ratio";
  if (kind == "kafka") return "kafka_cluster_brokers_ratio";
  return "faultline_exporter_up_ratio";
}

const MetricFamily* find_family(const std::vector<MetricFamily>& fs, const std::string& name) {
  for (const auto& f : fs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(StackEndpoints, EveryServiceAnswersHealthAndMetrics) {
  FAULTLINE_COVERS("IT-INFRA-08");
  auto& session = test_stack();
  ASSERT_NE(session.exporter(), nullptr);
  ASSERT_FALSE(session.stack().services.empty());
  const auto exports = session.exports();
  for (const auto& s : session.stack().services) {
    SCOPED_TRACE(s.name);
    const std::uint16_t port = session.exporter()->port(s.name);
    std::string env;
    for (char c : s.name) env += static_cast<char>(std::isalnum(c) ? std::toupper(c) : '_');
    EXPECT_EQ(exports.at("FAULTLINE_METRICS_" + env),
              "http://127.0.0.1:" + std::to_string(port) + "/metrics");

    const auto health = http(port, "GET", "/health");
    ASSERT_EQ(health.status, 200) << health.body;
    const auto body = nlohmann::json::parse(health.body);
    EXPECT_EQ(body["status"], "healthy");
    EXPECT_EQ(body["service"], s.name);

    const auto metrics = http(port, "GET", "/metrics");
    ASSERT_EQ(metrics.status, 200) << metrics.body;
    const auto families = parse_prometheus_text(metrics.body);
    for (const auto& f : families) {
      EXPECT_TRUE(follows_naming_convention(f.name)) << f.name;
    }
    const MetricFamily* up = find_family(families, "faultline_exporter_up_ratio");
    ASSERT_NE(up, nullptr) << metrics.body;
    EXPECT_EQ(up->samples.at(0).value, 1.0);
    EXPECT_EQ(up->samples.at(0).labels.at("service"), s.name);
    const std::string kind(stack::to_string(s.kind));
    EXPECT_NE(find_family(families, family_of_kind(kind)), nullptr)
        << kind << " has no " << family_of_kind(kind) << ":\n"
        << metrics.body;
  }
}

TEST(StackEndpoints, HealthNamesTheServiceThatStopsAnswering) {
  FAULTLINE_COVERS("IT-INFRA-08");
  FAULTLINE_STACK_SERVICE_OR_SKIP(redis, "redis");
  const auto hooks = redis.hooks();
  const char* hook = hooks.count(backends::hook::kRefuseConnections)
                         ? backends::hook::kRefuseConnections
                         : backends::hook::kPause;
  if (!hooks.count(hook)) GTEST_SKIP() << "redis offers neither refuse-connections nor pause";
  const std::uint16_t port = test_stack().exporter()->port("redis");
  {
    auto fault = redis.apply_hook(hook, nlohmann::json::object());
    const auto r = http(port, "GET", "/health");  // bounded by the 10 s check timeout
    ASSERT_EQ(r.status, 503) << r.body;
    const auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["failing"], nlohmann::json::array({"redis"}));
    EXPECT_FALSE(body["checks"][0]["detail"].get<std::string>().empty());
    const auto metrics = parse_prometheus_text(http(port, "GET", "/metrics").body);
    ASSERT_NE(find_family(metrics, "faultline_exporter_up_ratio"), nullptr);
    EXPECT_EQ(find_family(metrics, "faultline_exporter_up_ratio")->samples.at(0).value, 0.0);
    fault->heal();
  }
  EXPECT_TRUE(faultline::testing::eventually(
      [&] { return http(port, "GET", "/health").status == 200; }, std::chrono::seconds(30)));
}

// ---- the workload and its logs ----

class LogCapture {
 public:
  LogCapture() { log::configure({log::Format::json, log::Level::debug, &stream_}); }
  ~LogCapture() { finish(); }
  std::vector<std::string> finish() {
    if (!done_) log::configure({});  // back to stderr: no writer touches stream_ after this
    done_ = true;
    std::vector<std::string> lines;
    std::istringstream in(stream_.str());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }

 private:
  std::ostringstream stream_;
  bool done_ = false;
};

struct Request {
  std::string id;
  redisContext* redis = nullptr;
  PGconn* pg = nullptr;
  ~Request() {
    if (redis) redisFree(redis);
    if (pg) PQfinish(pg);
  }
};

std::string redis_reply(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<std::size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.c_str());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()));
  if (!r) return std::string("error: ") + c->errstr;
  std::string out = r->str ? std::string(r->str, r->len) : std::to_string(r->integer);
  if (r->type == REDIS_REPLY_ERROR) out = "error: " + out;
  freeReplyObject(r);
  return out;
}

std::string pg_exec(PGconn* c, const std::string& sql) {
  PGresult* res = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(res);
  std::string error =
      st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "" : PQresultErrorMessage(res);
  PQclear(res);
  return error;
}

PGconn* pg_connect(const std::map<std::string, std::string>& exports, const std::string& app) {
  const std::string port = exports.at("PGPORT");
  const std::string host = exports.count("PGHOST") ? exports.at("PGHOST") : "127.0.0.1";
  const char* keys[] = {"host", "port", "user", "dbname", "application_name", "connect_timeout",
                        nullptr};
  const char* values[] = {host.c_str(),
                          port.c_str(),
                          exports.at("PGUSER").c_str(),
                          exports.at("PGDATABASE").c_str(),
                          app.c_str(),
                          "10",
                          nullptr};
  return PQconnectdbParams(keys, values, 0);
}

TEST(StackLogs, OneRequestSharesOneCorrelationIdAcrossServicesAndNoSecretIsLogged) {
  FAULTLINE_COVERS("IT-INFRA-08");
  FAULTLINE_STACK_SERVICE_OR_SKIP(redis_handle, "redis");
  FAULTLINE_STACK_SERVICE_OR_SKIP(pg_handle, "postgres");
  (void)redis_handle;
  (void)pg_handle;
  auto& session = test_stack();
  const auto exports = session.exports();
  const auto& redis_ep = session.handle("redis")->endpoint();
  for (const char* var : {"FAULTLINE_CANARY_API_KEY", "FAULTLINE_CANARY_ACCOUNT_SECRET",
                          "FAULTLINE_CANARY_DB_PASSWORD"}) {
    Redactor::process().add(std::getenv(var));  // in case the list was built before main
  }
  Rng rng = faultline::testing::test_rng();

  LogCapture capture;
  {
    PGconn* setup = pg_connect(exports, "req-infra-08-setup");
    ASSERT_EQ(PQstatus(setup), CONNECTION_OK) << PQerrorMessage(setup);
    EXPECT_EQ(pg_exec(setup, "CREATE TABLE req08_orders (id integer PRIMARY KEY, note text)"), "");
    PQfinish(setup);
  }
  std::vector<std::unique_ptr<Request>> requests;
  for (int i = 0; i < 5; ++i) {
    auto req = std::make_unique<Request>();
    char id[32];
    std::snprintf(id, sizeof id, "req-%08x", static_cast<unsigned>(rng.uniform(0, 0x7fffffff)));
    req->id = id;
    log::CorrelationScope scope(req->id);
    // The request carries an API key and an account number; the log line must not.
    log::info("app", "order received",
              {{"order", i}, {"api_key", kApiKey}, {"auth", std::string("Bearer ") + kApiKey}});
    req->redis = redisConnect(redis_ep.host.c_str(), redis_ep.port);
    ASSERT_TRUE(req->redis && !req->redis->err);
    ASSERT_EQ(redis_reply(req->redis, {"CLIENT", "SETNAME", req->id}), "OK");
    ASSERT_EQ(redis_reply(req->redis, {"SET", "order:" + std::to_string(i), kAccount}), "OK");
    log::info("app", "order cached", {{"key", "order:" + std::to_string(i)}});
    req->pg = pg_connect(exports, req->id);
    ASSERT_EQ(PQstatus(req->pg), CONNECTION_OK) << PQerrorMessage(req->pg);
    const std::string insert =
        "INSERT INTO req08_orders VALUES (" + std::to_string(i) + ", 'account " + kAccount + "')";
    const std::string error = pg_exec(req->pg, insert);
    if (!error.empty()) log::error("app", "order insert failed", {{"error", error}});
    ASSERT_EQ(error, "");
    log::info("app", "order stored", {{"sql", insert}, {"password", kDbPassword}});
    requests.push_back(std::move(req));
  }
  // The servers' side of every request, while its connections are still open.
  const std::size_t session_lines = session.exporter()->log_sessions();
  EXPECT_GE(session_lines, 2 * requests.size());
  requests.clear();
  const auto lines = capture.finish();

  std::map<std::string, std::set<std::string>> components_by_id;
  for (const auto& line : lines) {
    SCOPED_TRACE(line);
    for (const char* secret : {kApiKey, kAccount, kDbPassword}) {
      EXPECT_EQ(line.find(secret), std::string::npos) << "a secret reached the log";
    }
    const auto j = nlohmann::json::parse(line);  // throws (fails the test) on a non-JSON line
    ASSERT_TRUE(j.contains("level") && j.contains("ts") && j.contains("message"));
    if (j.contains("correlation_id") && j["correlation_id"].is_string()) {
      components_by_id[j["correlation_id"]].insert(j.value("component", ""));
    }
  }
  // Each request's id names lines of the application and of both servers.
  std::size_t i = 0;
  for (const auto& [id, components] : components_by_id) {
    if (id.rfind("req-", 0) != 0 || id == "req-infra-08-setup") continue;
    ++i;
    EXPECT_EQ(components, (std::set<std::string>{"app", "redis", "postgres"})) << id;
  }
  EXPECT_EQ(i, 5u) << "every request's correlation id is in the log";
  // One request's lines, as evidence in the test output.
  const std::string first = "\"correlation_id\":\"" + components_by_id.begin()->first + "\"";
  for (const auto& line : lines) {
    if (line.find(first) != std::string::npos) std::printf("%s\n", line.c_str());
  }
  ::testing::Test::RecordProperty("log_lines", std::to_string(lines.size()));
}

}  // namespace
}  // namespace faultline::ops
