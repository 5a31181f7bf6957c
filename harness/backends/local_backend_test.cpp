// LocalBackend: a real PostgreSQL 15 and redis-server brought up by the Orchestrator, with their
// kill, pause and admin-shutdown hooks, and persistent data kept across a restart.
#include "harness/backends/local_backend.h"
#include "harness/core/sanitizers.h"

#include <libpq-fe.h>

#include <gtest/gtest.h>

#include "chaos/netns/network_namespace.h"
#include "harness/backends/hooks.h"
#include "harness/backends/postgres_endpoint.h"
#include "harness/backends/test_clients.h"
#include "harness/clients/docker/docker_client.h"
#include "harness/clients/gpu/gpu_probe.h"
#include "harness/core/reaper.h"
#include "harness/stack/orchestrator.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("local_backend_test");

namespace faultline::backends {
namespace {

using namespace std::chrono_literals;
using faultline::testing::test_run_directory;
using faultline::testing::wait_until;
using testing::pg_exec;
using testing::redis_command;

constexpr const char* kStack = R"(
stack: local-test
services:
  db:
    kind: postgres
    settings: {database: trading, user: trader}
    restart: always
    persistent: true
  cache:
    kind: redis
    restart: always
)";

std::size_t pending_heal_actions() {
  const auto dir = test_run_directory().path() / "heal";
  if (!std::filesystem::exists(dir)) return 0;
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(".", 0) != 0) ++n;
  }
  return n;
}

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = stack::parse_stack_file(kStack, "local-test.yaml");
    backend_.emplace(test_run_directory(), clock_);
    for (const auto& s : stack_.services) {
      if (auto why = backend_->unavailable(s)) GTEST_SKIP() << *why;
    }
    stack::OrchestratorOptions o;
    o.backoff_base = 10ms;
    o.poll_interval = 20ms;
    orch_.emplace(stack_, *backend_, clock_, nullptr, o);
    orch_->start_services();
  }
  void TearDown() override {
    orch_.reset();
    backend_.reset();
  }
  stack::ServiceHandle& handle(const std::string& name) { return *orch_->handle(name); }
  // The service's status detail and the tail of its log, for failure messages.
  std::string detail(const std::string& name) {
    std::string out;
    for (const auto& st : orch_->status()) {
      if (st.service_name == name)
        out = std::string(stack::to_string(st.status)) + ": " + st.detail;
    }
    if (auto* h = orch_->handle(name)) {
      const auto lines = h->logs();
      for (std::size_t i = lines.size() > 10 ? lines.size() - 10 : 0; i < lines.size(); ++i) {
        out += "\n  " + lines[i];
      }
    }
    return out;
  }
  std::string db() { return postgres_conninfo(handle("db").endpoint()); }
  void restart(const std::string& service) {
    ASSERT_TRUE(wait_until(
        [&] {
          orch_->monitor_health();
          return orch_->handle(service) && orch_->handle(service)->running() &&
                 orch_->handle(service)->probe().ok;
        },
        30s))
        << service << " was not restarted: " << detail(service);
  }

  RealClock clock_;
  stack::Stack stack_;
  std::optional<LocalBackend> backend_;
  std::optional<stack::Orchestrator> orch_;
};

TEST_F(LocalBackendTest, PostgresComesUpWithTheServicesRoleAndDatabase) {
  EXPECT_EQ(pg_exec(db(), "SELECT current_user || '@' || current_database()").text,
            "trader@trading");
  EXPECT_EQ(handle("db").endpoint().exports.at("PGPORT"),
            std::to_string(handle("db").endpoint().port));
  EXPECT_TRUE(redis_command("127.0.0.1", handle("cache").endpoint().port, "PING").ok);
}

TEST_F(LocalBackendTest, KilledPostgresRestartsOnTheSamePortWithItsData) {
  ASSERT_TRUE(pg_exec(db(), "CREATE TABLE orders (id int PRIMARY KEY)").ok);
  ASSERT_TRUE(pg_exec(db(), "INSERT INTO orders VALUES (1), (2)").ok);
  const int port = handle("db").endpoint().port;
  handle("db").apply_hook(hook::kKill, {});
  ASSERT_TRUE(wait_until([&] { return !handle("db").running(); }));
  EXPECT_EQ(handle("db").exit_code(), 137);
  restart("db");
  EXPECT_EQ(handle("db").endpoint().port, port);
  EXPECT_EQ(pg_exec(db(), "SELECT count(*) FROM orders").text, "2");
}

TEST_F(LocalBackendTest, PausedServersAnswerNothingUntilHealedAndTheRunKnowsHowToResume) {
  for (const char* service : {"db", "cache"}) {
    const auto before = pending_heal_actions();
    auto fault = handle(service).apply_hook(hook::kPause, {});
    EXPECT_EQ(pending_heal_actions(), before + 1) << "SIGCONT is registered with the run";
    EXPECT_FALSE(handle(service).probe().ok) << service;  // bounded by the probe's timeout
    EXPECT_TRUE(handle(service).running());
    fault->heal();
    EXPECT_EQ(pending_heal_actions(), before);
    EXPECT_TRUE(wait_until([&] { return handle(service).probe().ok; })) << service;
  }
}

TEST_F(LocalBackendTest, AdminShutdownEndsSessionsWith57P01AndTheServerStaysUp) {
  PGconn* session = PQconnectdb(db().c_str());
  ASSERT_EQ(PQstatus(session), CONNECTION_OK) << PQerrorMessage(session);
  handle("db").apply_hook(hook::kAdminShutdown, {});
  PGresult* res = PQexec(session, "SELECT 1");
  EXPECT_NE(PQresultStatus(res), PGRES_TUPLES_OK);
  EXPECT_NE(std::string(PQerrorMessage(session)).find("administrator command"), std::string::npos)
      << PQerrorMessage(session);
  PQclear(res);
  PQfinish(session);
  EXPECT_TRUE(pg_exec(db(), "SELECT 1").ok);
  EXPECT_THROW(handle("db").apply_hook(hook::kAdminShutdown, {{"refuse_ms", 100}}), UsageError);
}

TEST_F(LocalBackendTest, KilledRedisIsRestarted) {
  handle("cache").apply_hook(hook::kKill, {});
  ASSERT_TRUE(wait_until([&] { return !handle("cache").running(); }));
  restart("cache");
  EXPECT_EQ(orch_->status()[1].restarts, 1);
  EXPECT_THROW(handle("cache").apply_hook(hook::kOom, {}), UsageError);
}

// redis and postgres each in their own network namespace (isolate_network): reached at the
// namespace's end of the veth, restarted inside the same namespace on the same address and port
// with the data kept, and the namespaces and veths gone once the services and the backend are.
TEST(LocalBackendNetns, ServicesRunInTheirOwnNamespaceAcrossRestartsAndLeaveNothing) {
  RealClock clock;
  std::optional<LocalBackend> backend(std::in_place, test_run_directory(), clock);
  const auto s = stack::parse_stack_file(kStack, "local-test.yaml");
  for (const auto& service : s.services)
    if (auto why = backend->unavailable(service)) GTEST_SKIP() << *why;
  for (const auto& service : s.services) {
    if (auto why = backend->isolate_network(service)) GTEST_SKIP() << *why;
  }
  const auto other = stack::parse_stack_file("stack: x\nservices:\n  k: {kind: kafka}\n", "x.yaml");
  ASSERT_TRUE(backend->isolate_network(other.services[0]).has_value())
      << "only redis and postgres can be put in a namespace";
  EXPECT_NE(backend->isolate_network(other.services[0])->find("only redis and postgres"),
            std::string::npos);

  std::vector<std::string> namespaces, veths;
  {
    stack::OrchestratorOptions o;
    o.backoff_base = 10ms;
    o.poll_interval = 20ms;
    stack::Orchestrator orch(s, *backend, clock, nullptr, o);
    orch.start_services();
    for (const char* name : {"db", "cache"}) {
      const auto ns = backend->network_namespace(name);
      ASSERT_NE(ns, nullptr) << name;
      EXPECT_TRUE(ns->exists());
      EXPECT_EQ(orch.handle(name)->endpoint().host, ns->namespace_address()) << name;
      EXPECT_EQ(ns->namespace_address().rfind("10.213.", 0), 0u);
      namespaces.push_back(ns->name());
      veths.push_back(ns->host_interface());
    }
    EXPECT_NE(namespaces[0], namespaces[1]) << "one namespace per service";
    const std::string db = postgres_conninfo(orch.handle("db")->endpoint());
    EXPECT_NE(db.find("host=" + backend->network_namespace("db")->namespace_address()),
              std::string::npos);
    EXPECT_EQ(pg_exec(db, "SELECT current_user || '@' || current_database()").text,
              "trader@trading");
    ASSERT_TRUE(pg_exec(db, "CREATE TABLE orders (id int PRIMARY KEY)").ok);
    ASSERT_TRUE(pg_exec(db, "INSERT INTO orders VALUES (1), (2)").ok);
    const auto& cache = orch.handle("cache")->endpoint();
    EXPECT_TRUE(redis_command(cache.host, cache.port, "PING").ok);
    EXPECT_FALSE(redis_command("127.0.0.1", cache.port, "PING").ok)
        << "the namespaced redis is not on the host's loopback";

    // A killed postgres restarts in the same namespace, on the same address and port, data kept.
    const auto before = orch.handle("db")->endpoint();
    orch.handle("db")->apply_hook(hook::kKill, {});
    ASSERT_TRUE(wait_until([&] { return !orch.handle("db")->running(); }));
    ASSERT_TRUE(wait_until(
        [&] {
          orch.monitor_health();
          return orch.handle("db") && orch.handle("db")->running() && orch.handle("db")->probe().ok;
        },
        30s));
    EXPECT_EQ(orch.handle("db")->endpoint().host, before.host);
    EXPECT_EQ(orch.handle("db")->endpoint().port, before.port);
    EXPECT_EQ(backend->network_namespace("db")->name(), namespaces[0]);
    EXPECT_EQ(pg_exec(db, "SELECT count(*) FROM orders").text, "2");
  }
  for (const auto& name : namespaces)
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path("/run/netns") / name))
        << "the backend keeps a stopped service's namespace for its restart";
  backend.reset();
  for (const auto& name : namespaces)
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path("/run/netns") / name)) << name;
  for (const auto& veth : veths)
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path("/sys/class/net") / veth)) << veth;
  for (const auto& heal : read_heal_records(test_run_directory().path()))
    for (const auto& name : namespaces)
      EXPECT_EQ(heal.description.find(name), std::string::npos) << heal.description;
}

TEST(LocalBackendKinds, KafkaRunsOnTheMockClusterAndContainersAreUnavailable) {
  if (auto why = librdkafka_unavailable()) GTEST_SKIP() << *why;
  RealClock clock;
  LocalBackend backend(test_run_directory(), clock);
  const auto s = stack::parse_stack_file(
      "stack: x\nservices:\n  k: {kind: kafka, settings: {brokers: 2}}\n  c: {image: nginx}\n",
      "x.yaml");
  EXPECT_FALSE(backend.unavailable(s.services[0]).has_value());
  EXPECT_TRUE(backend.unavailable(s.services[1]).has_value());
  stack::Stack kafka_only = s;
  kafka_only.services.resize(1);
  stack::Orchestrator orch(kafka_only, backend, clock);
  orch.start_services();
  EXPECT_TRUE(orch.handle("k")->probe().ok);
  EXPECT_NE(orch.handle("k")->endpoint().exports.at("KAFKA_BOOTSTRAP").find(','),
            std::string::npos);
}

// GPU and docker on the local backend: NVML's devices where there are some, else the GPU fake
// (as on this machine); the Docker Engine fake, since no Docker daemon runs here.
TEST(LocalBackendKinds, GpuAndDockerRunTheirFakesWhereTheMachineHasNone) {
  RealClock clock;
  LocalBackend backend(test_run_directory(), clock);
  const auto s = stack::parse_stack_file(
      "stack: x\nservices:\n  gpu: {kind: gpu, settings: {devices: 2}}\n"
      "  docker: {kind: docker, settings: {memory: 2g, cpus: 2}}\n",
      "x.yaml");
  for (const auto& service : s.services) EXPECT_FALSE(backend.unavailable(service).has_value());
  stack::Orchestrator orch(s, backend, clock);
  orch.start_services();
  auto* gpu = orch.handle("gpu");
  ASSERT_NE(gpu, nullptr);
  const auto probe = gpu->probe();
  ASSERT_TRUE(probe.ok) << probe.detail;
  if (gpu->endpoint().exports.at("GPU_SOURCE") == "nvml") {
    EXPECT_NE(probe.detail.find("NVML"), std::string::npos) << probe.detail;
  } else {
    EXPECT_NE(probe.detail.find("no NVML here"), std::string::npos) << probe.detail;
    auto xid = gpu->apply_hook(hook::kXid, {{"device", 1}, {"code", 79}});
    EXPECT_NE(gpu->probe().detail.find("CUDA:1 lost"), std::string::npos) << gpu->probe().detail;
  }
  auto* docker = orch.handle("docker");
  ASSERT_NE(docker, nullptr);
  EXPECT_TRUE(docker->probe().ok) << docker->probe().detail;
  EXPECT_NE(docker->probe().detail.find("no Docker daemon"), std::string::npos);
  clients::DockerClient client(
      clients::DockerHost::parse(docker->endpoint().exports.at("DOCKER_HOST")));
  EXPECT_EQ(client.info().at("NCPU").get<int>(), 2);
  clients::ContainerSpec web;
  web.name = "web";
  web.image = "nginx";
  web.restart_policy = "on-failure:2";
  client.create_container(web);
  client.start("web");
  docker->apply_hook(hook::kContainerCrash, {{"container", "web"}});
  // docker's restart backoff (100 ms) runs on the real clock here.
  EXPECT_TRUE(wait_until([&] {
    const auto c = client.inspect("web");
    return c.running && c.restart_count == 1;
  }));
  orch.stop_services();
}

}  // namespace
}  // namespace faultline::backends
