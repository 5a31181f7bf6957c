// FakeBackend: redis and postgres fakes brought up by the Orchestrator, reached by real clients,
// and every fault hook applied and healed.
#include "harness/backends/fake_backend.h"
#include "harness/core/sanitizers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "harness/backends/hooks.h"
#include "harness/backends/postgres_endpoint.h"
#include "harness/backends/test_clients.h"
#include "harness/stack/orchestrator.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("fake_backend_test");

namespace faultline::backends {
namespace {

using namespace std::chrono_literals;
using testing::pg_exec;
using testing::redis_command;

constexpr const char* kStack = R"(
stack: fake-test
services:
  db:
    kind: postgres
    settings: {database: trading, user: trader}
    restart: always
    persistent: true
  cache:
    kind: redis
    restart: on-failure
    depends_on: [db]
  locked:
    kind: redis
    chaos: forbidden
)";

class FakeBackendTest : public ::testing::Test {
 protected:
  FakeBackendTest()
      : stack_(stack::parse_stack_file(kStack, "fake-test.yaml")),
        backend_(faultline::testing::test_run_directory(), clock_, loop_, &journal_),
        orch_(stack_, backend_, clock_, &journal_, options()) {}

  static stack::OrchestratorOptions options() {
    stack::OrchestratorOptions o;
    o.backoff_base = 10ms;
    return o;
  }
  stack::ServiceHandle& handle(const std::string& name) {
    auto* h = orch_.handle(name);
    if (!h) throw Error("no handle for " + name);
    return *h;
  }
  int redis_port(const std::string& name) { return handle(name).endpoint().port; }
  std::string db() { return postgres_conninfo(handle("db").endpoint()); }
  // Runs monitor_health until `service` is running again after a restart (bounded).
  void restart(const std::string& service) {
    for (int i = 0; i < 100; ++i) {
      orch_.monitor_health();
      clock_.advance(100ms);
      if (orch_.handle(service) && orch_.handle(service)->running()) return;
    }
    FAIL() << service << " was not restarted";
  }

  ManualClock clock_;
  EventLoop loop_;
  Journal journal_{clock_};
  stack::Stack stack_;
  FakeBackend backend_;
  stack::Orchestrator orch_;
};

TEST_F(FakeBackendTest, BringsUpRedisAndPostgresThatRealClientsReach) {
  const auto status = orch_.start_services();
  for (const auto& s : status)
    EXPECT_EQ(s.status, stack::ServiceStatus::State::running) << s.service_name;
  EXPECT_TRUE(redis_command("127.0.0.1", redis_port("cache"), "SET k v").ok);
  EXPECT_EQ(redis_command("127.0.0.1", redis_port("cache"), "GET k").text, "v");
  EXPECT_EQ(pg_exec(db(), "SELECT current_user").text, "trader");
  EXPECT_EQ(handle("db").endpoint().exports.at("PGDATABASE"), "trading");
  EXPECT_EQ(handle("cache").endpoint().exports.at("REDIS_URL"),
            "redis://127.0.0.1:" + std::to_string(redis_port("cache")) + "/0");
}

TEST_F(FakeBackendTest, CrashedPersistentPostgresRestartsWithItsCommittedData) {
  orch_.start_services();
  ASSERT_TRUE(pg_exec(db(), "CREATE TABLE orders (id int PRIMARY KEY)").ok);
  ASSERT_TRUE(pg_exec(db(), "INSERT INTO orders VALUES (1)").ok);
  const int port = handle("db").endpoint().port;
  auto fault = handle("db").apply_hook(hook::kCrash, {{"exit_code", 139}});
  EXPECT_FALSE(handle("db").running());
  EXPECT_EQ(handle("db").exit_code(), 139);
  EXPECT_FALSE(pg_exec(db(), "SELECT 1").ok);
  restart("db");
  EXPECT_EQ(handle("db").endpoint().port, port) << "a restart keeps the endpoint";
  EXPECT_EQ(pg_exec(db(), "SELECT count(*) FROM orders").text, "1");
  fault->heal();  // nothing to undo; must not throw
}

TEST_F(FakeBackendTest, KilledNonPersistentRedisRestartsEmpty) {
  orch_.start_services();
  ASSERT_TRUE(redis_command("127.0.0.1", redis_port("cache"), "SET k v").ok);
  handle("cache").apply_hook(hook::kKill, {});
  EXPECT_EQ(handle("cache").exit_code(), 137);
  restart("cache");
  EXPECT_EQ(redis_command("127.0.0.1", redis_port("cache"), "EXISTS k").text, "0");
  EXPECT_EQ(orch_.status()[1].restarts, 1);
}

TEST_F(FakeBackendTest, RefuseConnectionsFailsTheProbeUntilHealed) {
  orch_.start_services();
  for (const char* service : {"db", "cache"}) {
    auto fault = handle(service).apply_hook(hook::kRefuseConnections, {});
    EXPECT_FALSE(handle(service).probe().ok) << service;
    fault->heal();
    fault->heal();  // idempotent
    EXPECT_TRUE(handle(service).probe().ok) << service;
  }
}

TEST_F(FakeBackendTest, RedisOomAndReadOnlyAnswerAsRedisDoes) {
  orch_.start_services();
  const int port = redis_port("cache");
  {
    auto oom = handle("cache").apply_hook(hook::kOom, {});
    EXPECT_EQ(redis_command("127.0.0.1", port, "SET k v").text.rfind("OOM", 0), 0u);
  }  // destruction heals
  EXPECT_TRUE(redis_command("127.0.0.1", port, "SET k v").ok);
  auto ro = handle("cache").apply_hook(hook::kReadOnly, {});
  EXPECT_EQ(redis_command("127.0.0.1", port, "SET k v").text.rfind("READONLY", 0), 0u);
  ro->heal();
  EXPECT_TRUE(redis_command("127.0.0.1", port, "SET k v").ok);
}

TEST_F(FakeBackendTest, LatencyHoldsRedisCommandsOnTheHarnessClock) {
  orch_.start_services();
  const int port = redis_port("cache");
  auto fault = handle("cache").apply_hook(hook::kLatency, {{"ms", 200}});
  const auto t0 = clock_.now();
  auto reply =
      std::async(std::launch::async, [port] { return redis_command("127.0.0.1", port, "PING"); });
  while (reply.wait_for(0s) != std::future_status::ready) {
    clock_.advance(1ms);
    std::this_thread::yield();
  }
  EXPECT_TRUE(reply.get().ok);
  EXPECT_GE(clock_.now() - t0, 200ms);
  fault->heal();
  EXPECT_TRUE(redis_command("127.0.0.1", port, "PING").ok);
}

TEST_F(FakeBackendTest, PauseHoldsRedisUntilHealed) {
  orch_.start_services();
  const int port = redis_port("cache");
  auto fault = handle("cache").apply_hook(hook::kPause, {});
  // The probe's PING is held until its own 2 s timeout: a paused server answers nothing.
  EXPECT_FALSE(handle("cache").probe().ok);
  auto reply =
      std::async(std::launch::async, [port] { return redis_command("127.0.0.1", port, "PING"); });
  fault->heal();
  EXPECT_TRUE(reply.get().ok);
  EXPECT_TRUE(handle("cache").probe().ok);
}

TEST_F(FakeBackendTest, PostgresAdminShutdownLatencyAndConnectionLimit) {
  orch_.start_services();
  handle("db").apply_hook(hook::kAdminShutdown, {});
  EXPECT_TRUE(pg_exec(db(), "SELECT 1").ok) << "the server keeps accepting";
  {
    auto limit = handle("db").apply_hook(hook::kMaxConnections, {{"limit", 0}});
    EXPECT_NE(pg_exec(db(), "SELECT 1").text.find("too many clients"), std::string::npos);
  }
  EXPECT_TRUE(pg_exec(db(), "SELECT 1").ok);
  auto ro = handle("db").apply_hook(hook::kReadOnly, {});
  EXPECT_NE(pg_exec(db(), "CREATE TABLE t (a int)").text.find("read-only"), std::string::npos);
  ro->heal();
  auto slow = handle("db").apply_hook(hook::kLatency, {{"ms", 50}, {"pattern", "orders"}});
  EXPECT_TRUE(pg_exec(db(), "SELECT 1").ok) << "only matching statements wait";
  slow->heal();
}

TEST_F(FakeBackendTest, BadHookArgumentsAndUnknownHooksAreUsageErrors) {
  orch_.start_services();
  EXPECT_THROW(handle("cache").apply_hook(hook::kLatency, {}), UsageError);
  EXPECT_THROW(handle("cache").apply_hook(hook::kLatency, {{"ms", -1}}), UsageError);
  EXPECT_THROW(handle("cache").apply_hook(hook::kAdminShutdown, {}), UsageError);
  EXPECT_THROW(handle("db").apply_hook(hook::kMaxConnections, {{"limit", "x"}}), UsageError);
  EXPECT_TRUE(handle("cache").hooks().count(hook::kPause));
  EXPECT_TRUE(handle("db").hooks().count(hook::kAdminShutdown));
}

TEST_F(FakeBackendTest, AServiceThatForbidsChaosOffersNoHooks) {
  orch_.start_services();
  EXPECT_TRUE(handle("locked").hooks().empty());
  try {
    handle("locked").apply_hook(hook::kKill, {});
    FAIL() << "the hook was applied";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("chaos: forbidden"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(handle("locked").running());
}

TEST(FakeBackendKafka, ThreeBrokersWithBrokerDownLatencyAndCrashHooks) {
  if (auto why = librdkafka_unavailable()) GTEST_SKIP() << *why;
  ManualClock clock;
  EventLoop loop;
  FakeBackend backend(faultline::testing::test_run_directory(), clock, loop);
  const auto s = stack::parse_stack_file(
      "stack: k\nservices:\n  kafka: {kind: kafka, restart: always, settings: {brokers: 3}}\n",
      "k.yaml");
  stack::OrchestratorOptions o;
  o.backoff_base = 10ms;
  stack::Orchestrator orch(s, backend, clock, nullptr, o);
  orch.start_services();
  auto* h = orch.handle("kafka");
  ASSERT_NE(h, nullptr);
  const std::string bootstrap = h->endpoint().exports.at("KAFKA_BOOTSTRAP");
  EXPECT_EQ(std::count(bootstrap.begin(), bootstrap.end(), ','), 2) << bootstrap;
  {
    auto down = h->apply_hook(hook::kBrokerDown, {{"broker", 2}});
    const auto probe = h->probe();
    EXPECT_TRUE(probe.ok) << "two brokers still serve";
    EXPECT_NE(probe.detail.find("2/3 brokers up"), std::string::npos) << probe.detail;
  }
  EXPECT_NE(h->probe().detail.find("3/3 brokers up"), std::string::npos);
  EXPECT_THROW(h->apply_hook(hook::kBrokerDown, {{"broker", 4}}), UsageError);
  h->apply_hook(hook::kLatency, {{"ms", 20}, {"broker", 1}})->heal();
  h->apply_hook(hook::kCrash, {});
  EXPECT_FALSE(h->running());
  for (int i = 0; i < 100 && !(orch.handle("kafka") && orch.handle("kafka")->running()); ++i) {
    orch.monitor_health();
    clock.advance(100ms);
  }
  ASSERT_TRUE(orch.handle("kafka") && orch.handle("kafka")->running());
  EXPECT_TRUE(orch.handle("kafka")->probe().ok);
}

TEST(FakeBackendKinds, KindsWithoutAFakeAreUnavailableWithAReason) {
  ManualClock clock;
  EventLoop loop;
  FakeBackend backend(faultline::testing::test_run_directory(), clock, loop);
  const auto s = stack::parse_stack_file(
      "stack: x\nservices:\n  d: {kind: docker}\n  g: {kind: gpu}\n  c: {image: nginx}\n",
      "x.yaml");
  for (const auto& service : s.services) {
    const auto why = backend.unavailable(service);
    ASSERT_TRUE(why.has_value()) << service.name;
    EXPECT_FALSE(why->empty());
    EXPECT_THROW(backend.start(service, {}), Error);
  }
}

}  // namespace
}  // namespace faultline::backends
