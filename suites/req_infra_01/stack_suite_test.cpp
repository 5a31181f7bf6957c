// REQ-INFRA-01 against a running stack, in fake and local modes (FAULTLINE_BACKEND, set by ctest):
// ET-INFRA-01.2 (a network partition keeps services isolated) on the StackEnvironment's default
// stack, and IT-INFRA-01 on the seed's docker-compose.yml.
#include <gtest/gtest.h>

#include "chaos/proxy/proxy_server.h"
#include "harness/backends/hooks.h"
#include "harness/backends/postgres_endpoint.h"
#include "harness/backends/test_clients.h"
#include "harness/core/event_loop.h"
#include "harness/core/rng.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "harness/testing/stack_environment.h"

FAULTLINE_STACK_ENVIRONMENT("req_infra_01_stack", "fixtures/stacks/default.yaml");

namespace faultline {
namespace {

using namespace std::chrono_literals;
using backends::postgres_conninfo;
using backends::testing::pg_exec;
using backends::testing::redis_command;
using faultline::testing::wait_until;

// The view a client container has of the stack: one fault proxy per service.
class ClientView {
 public:
  explicit ClientView(const std::map<std::string, stack::Endpoint>& endpoints)
      : server_(loop_, clock_, Rng(1)) {
    for (const auto& [name, e] : endpoints) {
      proxies_.push_back(
          server_.add_proxy({name, "127.0.0.1:0", e.host + ":" + std::to_string(e.port), true}));
      endpoints_[name] = e;
      endpoints_[name].port = proxies_.back().port();
    }
  }
  // The endpoint of `service` as the client reaches it (through its proxy).
  const stack::Endpoint& operator[](const std::string& service) { return endpoints_.at(service); }
  proxy::ToxicHandle partition(const std::string& service) { return server_.take_down(service); }

 private:
  RealClock clock_;
  EventLoop loop_;
  proxy::ProxyServer server_;
  std::vector<proxy::ProxyHandle> proxies_;
  std::map<std::string, stack::Endpoint> endpoints_;
};

bool redis_ok(const stack::Endpoint& e, const std::string& cmd = "PING") {
  return redis_command(e.host, e.port, cmd).ok;
}

TEST(NetworkPartition, APartitionedServiceIsIsolatedAndTheRestStayHealthy) {
  FAULTLINE_COVERS("ET-INFRA-01.2");
  FAULTLINE_STACK_SERVICE_OR_SKIP(redis, "redis");
  FAULTLINE_STACK_SERVICE_OR_SKIP(postgres, "postgres");
  auto& session = faultline::testing::test_stack();
  ClientView client(session.endpoints());
  ASSERT_TRUE(redis_ok(client["redis"], "SET order:1 filled"));
  ASSERT_TRUE(pg_exec(postgres_conninfo(client["postgres"]), "SELECT 1").ok);
  {
    auto partition = client.partition("redis");
    EXPECT_FALSE(redis_ok(client["redis"])) << "the client cannot reach redis";
    // The other side of the partition is untouched: postgres serves reads and writes.
    const std::string pg = postgres_conninfo(client["postgres"]);
    EXPECT_TRUE(pg_exec(pg, "CREATE TABLE IF NOT EXISTS fills (id int PRIMARY KEY)").ok);
    EXPECT_TRUE(pg_exec(pg, "INSERT INTO fills VALUES (1) ON CONFLICT (id) DO NOTHING").ok);
    // Redis itself is isolated, not broken: it serves its own side with its data.
    EXPECT_EQ(redis_command("127.0.0.1", redis.endpoint().port, "GET order:1").text, "filled");
    // Nothing cascades: every service stays running and nothing is restarted.
    for (const auto& st : session.monitor()) {
      EXPECT_EQ(st.status, stack::ServiceStatus::State::running) << st.service_name << st.detail;
      EXPECT_EQ(st.restarts, 0) << st.service_name;
    }
  }  // healed
  EXPECT_EQ(redis_command(client["redis"].host, client["redis"].port, "GET order:1").text,
            "filled");
  EXPECT_TRUE(postgres.probe().ok);
}

// The journal's order of `kind` events, by subject.
std::vector<std::string> journal_order(Journal& journal, const std::string& kind) {
  std::vector<std::string> out;
  for (const auto& e : journal.events()) {
    if (e.kind == kind) out.push_back(e.subject);
  }
  return out;
}

TEST(SeedCompose, StartKillRestartPartitionAndStopAgainstTheRunningStack) {
  stack::LoadOptions load;
  load.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  const auto compose = stack::load_compose(
      std::string(std::getenv("FAULTLINE_SOURCE_DIR")) + "/fixtures/compose/trading-stack.yml",
      load);
  backends::StackSessionOptions options;
  options.backend = faultline::testing::test_backend();
  options.orchestrator.backoff_base = 10ms;
  options.orchestrator.poll_interval = 20ms;
  backends::StackSession session(faultline::testing::test_stack_run_directory(), compose, options);
  // IT-INFRA-01 names nginx, prometheus and grafana too; only with all of them is it covered.
  if (session.unavailable().empty()) {
    FAULTLINE_COVERS("IT-INFRA-01");
  } else {
    std::string left_out;
    for (const auto& [s, why] : session.unavailable()) left_out += s + " (" + why + "); ";
    ::testing::Test::RecordProperty("left_out", left_out);
    std::printf("IT-INFRA-01 not claimed: the %s backend left out %s\n",
                session.backend_name().c_str(), left_out.c_str());
  }
  // Start in dependency order, every health check passing.
  for (const auto& st : session.start()) {
    EXPECT_EQ(st.status, stack::ServiceStatus::State::running) << st.service_name;
  }
  ASSERT_NE(session.handle("postgres"), nullptr);
  ASSERT_NE(session.handle("redis"), nullptr);
  const auto ready = journal_order(session.journal(), "service.ready");
  const auto started = journal_order(session.journal(), "service.start");
  for (const auto& s : session.stack().services) {
    const auto start_at = std::find(started.begin(), started.end(), s.name) - started.begin();
    for (const auto& d : s.depends_on) {
      const auto dep_ready = std::find(ready.begin(), ready.end(), d.service) - ready.begin();
      EXPECT_LT(dep_ready, start_at) << s.name << " started before " << d.service << " was ready";
    }
  }

  // A killed container comes back with the data on its volume, its status updated.
  const std::string pg = postgres_conninfo(session.handle("postgres")->endpoint());
  ASSERT_TRUE(pg_exec(pg, "CREATE TABLE orders (id int PRIMARY KEY, side text)").ok);
  ASSERT_TRUE(pg_exec(pg, "INSERT INTO orders VALUES (1, 'buy')").ok);
  ASSERT_TRUE(redis_ok(session.handle("redis")->endpoint(), "SET order:1 filled"));
  for (const char* victim : {"postgres", "redis"}) {
    session.handle(victim)->apply_hook(backends::hook::kKill, {});
    ASSERT_TRUE(wait_until(
        [&] {
          for (const auto& st : session.monitor()) {
            if (st.service_name == victim &&
                (st.restarts != 1 || st.status != stack::ServiceStatus::State::running)) {
              return false;
            }
          }
          return session.handle(victim) && session.handle(victim)->probe().ok;
        },
        30s))
        << victim << " was not restarted";
  }
  EXPECT_EQ(pg_exec(pg, "SELECT side FROM orders WHERE id = 1").text, "buy");
  EXPECT_EQ(
      redis_command("127.0.0.1", session.handle("redis")->endpoint().port, "GET order:1").text,
      "filled");

  // A partition between the client side and redis leaves redis isolated and the rest healthy.
  {
    ClientView client(session.endpoints());
    auto partition = client.partition("redis");
    EXPECT_FALSE(redis_ok(client["redis"]));
    EXPECT_TRUE(pg_exec(postgres_conninfo(client["postgres"]), "SELECT 1").ok);
    for (const auto& st : session.monitor()) {
      EXPECT_EQ(st.status, stack::ServiceStatus::State::running) << st.service_name;
    }
  }

  // Stop in reverse dependency order; nothing is left listening or running.
  const auto endpoints = session.endpoints();
  const auto stops_before = journal_order(session.journal(), "service.stop").size();
  session.stop();
  const auto all_stops = journal_order(session.journal(), "service.stop");
  const std::vector<std::string> stops(all_stops.begin() + stops_before, all_stops.end());
  EXPECT_EQ(stops.size(), session.stack().services.size());
  auto stop_index = [&](const std::string& name) {
    return std::find(stops.begin(), stops.end(), name) - stops.begin();
  };
  for (const auto& s : session.stack().services) {
    for (const auto& d : s.depends_on) {
      EXPECT_LT(stop_index(s.name), stop_index(d.service)) << s.name << " outlived " << d.service;
    }
  }
  EXPECT_FALSE(redis_ok(endpoints.at("redis")));
  EXPECT_FALSE(pg_exec(postgres_conninfo(endpoints.at("postgres")), "SELECT 1").ok);
  for (const auto& st : session.orchestrator().status()) {
    EXPECT_EQ(st.status, stack::ServiceStatus::State::stopped) << st.service_name;
  }
}

}  // namespace
}  // namespace faultline
