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
#include "harness/clients/docker/docker_client.h"
#include "harness/clients/gpu/gpu_probe.h"
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

TEST(FakeBackendKinds, GenericContainersAreUnavailableWithAReason) {
  ManualClock clock;
  EventLoop loop;
  FakeBackend backend(faultline::testing::test_run_directory(), clock, loop);
  const auto s = stack::parse_stack_file("stack: x\nservices:\n  c: {image: nginx}\n", "x.yaml");
  const auto why = backend.unavailable(s.services[0]);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("nginx"), std::string::npos) << *why;
  EXPECT_THROW(backend.start(s.services[0], {}), Error);
}

// The GPU fake as a stack service: read by a real nvidia-smi client (our GpuProbe running the fake
// nvidia-smi against the state file the endpoint exports), faulted through the hooks.
TEST(FakeBackendGpu, NvidiaSmiReadsTheDevicesAndTheHooksFaultThem) {
  ManualClock clock;
  EventLoop loop;
  FakeBackend backend(faultline::testing::test_run_directory(), clock, loop);
  const auto s = stack::parse_stack_file(
      "stack: g\nservices:\n  gpu: {kind: gpu, settings: {devices: 2, memory: 40g}}\n", "g.yaml");
  ASSERT_FALSE(backend.unavailable(s.services[0]).has_value());
  stack::Orchestrator orch(s, backend, clock);
  orch.start_services();
  auto* h = orch.handle("gpu");
  ASSERT_NE(h, nullptr);
  const auto& ex = h->endpoint().exports;
  ASSERT_TRUE(std::filesystem::exists(ex.at("FAULTLINE_FAKE_GPU_STATE")));
  EXPECT_EQ(ex.at("GPU_SOURCE"), "fake");
  EXPECT_GT(h->endpoint().port, 0) << "the control endpoint";
  clients::NvidiaSmiOptions smi;
  smi.program = ex.at("FAULTLINE_FAKE_NVIDIA_SMI");
  smi.env = {{"FAULTLINE_FAKE_GPU_STATE", ex.at("FAULTLINE_FAKE_GPU_STATE")}};
  clients::GpuProbe probe(clock, clients::nvidia_smi_source(smi));
  auto r = probe.query_devices();
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_EQ(r.devices[0].memory_total_mib, 40960u);
  EXPECT_EQ(r.devices[1].health, clients::GpuDeviceHealth::healthy);
  {
    auto xid = h->apply_hook(hook::kXid, {{"device", 0}, {"code", 79}});
    r = probe.query_devices();
    ASSERT_EQ(r.devices.size(), 2u);
    EXPECT_EQ(r.devices[0].health, clients::GpuDeviceHealth::lost) << r.devices[0].reason;
    EXPECT_EQ(r.devices[1].health, clients::GpuDeviceHealth::healthy);
    const auto p = h->probe();
    EXPECT_TRUE(p.ok) << "a lost device does not take the server down";
    EXPECT_NE(p.detail.find("CUDA:0 lost"), std::string::npos) << p.detail;
    xid->heal();
    xid->heal();  // idempotent
  }
  EXPECT_EQ(probe.query_devices().devices[0].health, clients::GpuDeviceHealth::healthy);
  {
    auto ecc = h->apply_hook(hook::kXid, {{"device", 1}, {"code", 48}});
    EXPECT_NE(h->probe().detail.find("CUDA:1 failed"), std::string::npos) << h->probe().detail;
    auto hot = h->apply_hook(hook::kThermal, {{"device", 0}});
    EXPECT_NE(h->probe().detail.find("CUDA:0 degraded"), std::string::npos) << h->probe().detail;
  }
  EXPECT_NE(h->probe().detail.find("CUDA:0 healthy, CUDA:1 healthy"), std::string::npos)
      << h->probe().detail;
  {
    auto garbage = h->apply_hook(hook::kSmiFailure, {{"mode", "malformed"}});
    EXPECT_FALSE(probe.query_devices().ok) << "malformed output is never read as healthy";
  }
  EXPECT_TRUE(probe.query_devices().ok);
  h->apply_hook(hook::kGpuMemoryExhausted, {{"device", 1}})->heal();
  h->apply_hook(hook::kUtilizationStuck, {{"device", 1}, {"percent", 100}})->heal();
  EXPECT_THROW(h->apply_hook(hook::kXid, {{"device", 2}}), UsageError);
  EXPECT_THROW(h->apply_hook(hook::kXid, {{"device", 0}, {"code", 13}}), UsageError);
  EXPECT_THROW(h->apply_hook(hook::kSmiFailure, {{"mode", "normal"}}), UsageError);
  EXPECT_THROW(h->apply_hook(hook::kThermal, {}), UsageError);
  const auto bad = stack::parse_stack_file(
      "stack: g\nservices:\n  gpu: {kind: gpu, settings: {devices: 40}}\n", "g.yaml");
  EXPECT_THROW(backend.start(bad.services[0], {}), Error);
}

// The Docker Engine fake as a stack service: our DockerClient on the exported DOCKER_HOST, the
// capacity from the settings, and the container hooks against docker's own restart policy.
TEST(FakeBackendDocker, EngineOnTheExportedSocketWithCapacityAndContainerHooks) {
  ManualClock clock;
  EventLoop loop;
  FakeBackend backend(faultline::testing::test_run_directory(), clock, loop);
  const auto s = stack::parse_stack_file(
      "stack: d\nservices:\n  docker: {kind: docker, settings: {memory: 1g, cpus: 2}}\n", "d.yaml");
  stack::Orchestrator orch(s, backend, clock);
  orch.start_services();
  auto* h = orch.handle("docker");
  ASSERT_NE(h, nullptr);
  const std::string host = h->endpoint().exports.at("DOCKER_HOST");
  ASSERT_EQ(host.rfind("unix://", 0), 0u) << host;
  EXPECT_TRUE(std::filesystem::exists(h->endpoint().unix_socket));
  EXPECT_TRUE(h->probe().ok) << h->probe().detail;
  clients::DockerClient docker(clients::DockerHost::parse(host));
  const auto info = docker.info();
  EXPECT_EQ(info.at("NCPU").get<int>(), 2);
  EXPECT_EQ(info.at("MemTotal").get<std::int64_t>(), 1LL << 30);

  clients::ContainerSpec big;
  big.name = "big";
  big.image = "busybox";
  big.memory_bytes = 2LL << 30;
  docker.create_container(big);
  EXPECT_THROW(docker.start("big"), clients::DockerApiError) << "beyond the service's memory";

  clients::ContainerSpec web;
  web.name = "web";
  web.image = "nginx";
  web.restart_policy = "always";
  docker.create_container(web);
  docker.start("web");
  h->apply_hook(hook::kContainerCrash, {{"container", "web"}, {"exit_code", 3}});
  EXPECT_EQ(docker.inspect("web").exit_code, 3);
  clock.advance(1s);  // docker's restart backoff (100 ms) on the harness clock
  EXPECT_TRUE(docker.inspect("web").running);
  EXPECT_EQ(docker.inspect("web").restart_count, 1);
  {
    auto loop_fault = h->apply_hook(hook::kCrashLoop, {{"container", "web"}, {"every_ms", 50}});
    for (int i = 0; i < 100; ++i) clock.advance(100ms);
    EXPECT_GE(docker.inspect("web").restart_count, 4) << "every restart dies again";
  }
  const int after_heal = docker.inspect("web").restart_count;
  for (int i = 0; i < 1000; ++i) clock.advance(100ms);  // past docker's longest backoff (1 min)
  const auto web_now = docker.inspect("web");
  EXPECT_TRUE(web_now.running);
  EXPECT_LE(web_now.restart_count, after_heal + 1) << "healed: at most the pending restart";
  h->apply_hook(hook::kContainerOom, {{"container", "web"}});
  EXPECT_TRUE(docker.inspect("web").oom_killed);
  EXPECT_THROW(h->apply_hook(hook::kContainerCrash, {{"container", "nope"}}), UsageError);
  EXPECT_THROW(h->apply_hook(hook::kCrashLoop, {}), UsageError);
  {
    auto stalled = h->apply_hook(hook::kPause, {});
    EXPECT_FALSE(h->probe().ok) << "the daemon holds /_ping";
  }
  EXPECT_TRUE(h->probe().ok);
  orch.stop_services();
  EXPECT_EQ(orch.handle("docker"), nullptr);
}

}  // namespace
}  // namespace faultline::backends
