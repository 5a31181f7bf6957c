// The docker backend against the Docker fake (fakes/docker) on one ManualClock: what a service
// becomes in the engine, health from the engine, the Orchestrator's restart of a killed container,
// pause and disconnect hooks, insufficient resources, unavailable kinds, and nothing left behind.
#include "harness/backends/docker/docker_backend.h"

#include <gtest/gtest.h>

#include "fakes/docker/fake_docker.h"
#include "harness/backends/docker/container_plan.h"
#include "harness/backends/hooks.h"
#include "harness/clients/docker/docker_client.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "harness/stack/orchestrator.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("docker_backend");

namespace faultline::backends {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using stack::ServiceStatus;

const char* kShop = R"(stack: shop
services:
  db:
    kind: postgres
    settings: {database: shop, user: shopper}
    healthcheck: {test: ["CMD-SHELL", "pg_isready"], interval: 1s, retries: 3}
    limits: {memory: 512mb, cpus: 1}
    restart: on-failure:3
    ports: ["5432"]
    persistent: true
  cache:
    kind: redis
    settings: {maxmemory: 64mb, maxmemory-policy: allkeys-lru}
    depends_on: {db: {condition: service_healthy}}
    restart: always
  web:
    image: nginx:alpine
    depends_on: [cache]
    networks: [front, back]
)";

class DockerBackendTest : public ::testing::Test {
 protected:
  DockerBackendTest() : engine_(loop_, clock_, engine_options(dir_)) {}

  static fakes::docker::FakeDockerOptions engine_options(const faultline::testing::TempDir& dir) {
    fakes::docker::FakeDockerOptions o;
    o.socket_path = (dir.path() / "docker.sock").string();
    return o;
  }
  DockerBackendOptions backend_options() {
    DockerBackendOptions o;
    o.docker_host = engine_.docker_host();
    o.run = &faultline::testing::test_run_directory();
    return o;
  }
  stack::OrchestratorOptions orchestrator_options() {
    stack::OrchestratorOptions o;
    o.poll_interval = 250ms;  // on the ManualClock: each poll moves the engine's time too
    o.backoff_base = 100ms;
    return o;
  }
  // Advances the clock through monitor_health() until `done` holds (bounded in simulated time).
  bool monitor_until(stack::Orchestrator& o, const std::function<bool()>& done) {
    for (int i = 0; i < 400; ++i) {
      o.monitor_health();
      if (done()) return true;
      clock_.advance(250ms);
    }
    return false;
  }
  ServiceStatus status(const std::vector<ServiceStatus>& all, const std::string& name) {
    for (const auto& s : all) {
      if (s.service_name == name) return s;
    }
    throw Error("no service " + name);
  }

  faultline::testing::TempDir dir_;
  EventLoop loop_;
  ManualClock clock_;
  fakes::docker::FakeDockerEngine engine_;
};

TEST_F(DockerBackendTest, ServicesBecomeContainersWithTheirSettings) {
  const auto stack = stack::parse_stack_file(kShop, "shop.yaml");
  Journal journal(clock_, "");
  DockerBackend backend(backend_options());
  stack::Orchestrator orchestrator(stack, backend, clock_, &journal, orchestrator_options());
  for (const auto& st : orchestrator.start_services()) {
    EXPECT_EQ(st.status, ServiceStatus::State::running) << st.service_name << ": " << st.detail;
  }
  // Dependency order: db healthy (the engine's health check) before cache starts, then web.
  std::vector<std::string> order;
  for (const auto& e : journal.events()) {
    if (e.kind == "service.start" || e.kind == "service.ready")
      order.push_back(e.kind + ":" + e.subject);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"service.start:db", "service.ready:db",
                                             "service.start:cache", "service.ready:cache",
                                             "service.start:web", "service.ready:web"}));
  const auto db = engine_.container(backend.container_name("db"));
  ASSERT_TRUE(db);
  EXPECT_EQ(db->status, "running");
  EXPECT_EQ(db->health, "healthy");

  const json inspect = backend.client().inspect(backend.container_name("db")).raw;
  const auto env = inspect["Config"]["Env"];
  for (const char* want :
       {"POSTGRES_DB=shop", "POSTGRES_USER=shopper", "POSTGRES_HOST_AUTH_METHOD=trust"}) {
    EXPECT_NE(std::find(env.begin(), env.end(), want), env.end()) << want << " in " << env;
  }
  EXPECT_EQ(inspect["HostConfig"]["Memory"], 512LL << 20);
  EXPECT_EQ(inspect["HostConfig"]["NanoCpus"], 1'000'000'000LL);
  // The Orchestrator owns restarts: the engine is told "no".
  EXPECT_EQ(inspect["HostConfig"]["RestartPolicy"]["Name"], "no");
  EXPECT_EQ(inspect["Config"]["Labels"]["faultline.service"], "db");
  const json cache = backend.client().inspect(backend.container_name("cache")).raw;
  EXPECT_EQ(cache["Config"]["Cmd"],
            json({"redis-server", "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"}));
  const auto web = engine_.container(backend.container_name("web"));
  ASSERT_TRUE(web);
  EXPECT_EQ(web->networks.size(), 2u);
  EXPECT_TRUE(web->networks.count(backend.network_name("front")));
  EXPECT_TRUE(web->networks.count(backend.network_name("back")));
  EXPECT_TRUE(db->networks.count(backend.network_name("default")));
  // The fake publishes no ports, so no endpoint port: the health status is the wait.
  EXPECT_FALSE(status(orchestrator.status(), "db").health_check_url);

  orchestrator.stop_services();
  EXPECT_TRUE(engine_.containers().empty()) << "stop_services() removes every container";
}

TEST_F(DockerBackendTest, AKilledContainerIsRestartedAndThePauseAndDisconnectHooksHeal) {
  const auto stack = stack::parse_stack_file(kShop, "shop.yaml");
  DockerBackend backend(backend_options());
  stack::Orchestrator orchestrator(stack, backend, clock_, nullptr, orchestrator_options());
  orchestrator.start_services();
  EXPECT_EQ(orchestrator.handle("db")->hooks(),
            (std::set<std::string>{hook::kKill, hook::kPause, hook::kDisconnect}));

  const std::string first_id = engine_.container(backend.container_name("db"))->id;
  orchestrator.handle("db")->apply_hook(hook::kKill, {});
  EXPECT_EQ(engine_.container(backend.container_name("db"))->exit_code, 137);
  ASSERT_TRUE(monitor_until(orchestrator, [&] {
    const auto st = status(orchestrator.status(), "db");
    return st.restarts == 1 && st.status == ServiceStatus::State::running &&
           orchestrator.handle("db") && orchestrator.handle("db")->probe().ok;
  })) << status(orchestrator.status(), "db").detail;
  const auto again = engine_.container(backend.container_name("db"));
  ASSERT_TRUE(again);
  EXPECT_NE(again->id, first_id) << "a new container replaced the killed one";
  EXPECT_EQ(again->status, "running");

  {
    auto pause = orchestrator.handle("cache")->apply_hook(hook::kPause, {});
    EXPECT_EQ(engine_.container(backend.container_name("cache"))->status, "paused");
    EXPECT_EQ(orchestrator.handle("cache")->probe().detail, "container paused");
    pause->heal();
    EXPECT_TRUE(orchestrator.handle("cache")->probe().ok);
  }
  {
    auto cut = orchestrator.handle("web")->apply_hook(hook::kDisconnect, {{"network", "front"}});
    auto web = engine_.container(backend.container_name("web"));
    EXPECT_EQ(web->networks.size(), 1u);
    EXPECT_TRUE(web->networks.count(backend.network_name("back")));
  }  // healed by destruction
  EXPECT_EQ(engine_.container(backend.container_name("web"))->networks.size(), 2u);
  EXPECT_THROW(orchestrator.handle("web")->apply_hook(hook::kLatency, {}), UsageError);
  EXPECT_THROW(orchestrator.handle("web")->apply_hook(hook::kDisconnect, {{"network", "nope"}}),
               UsageError);
}

TEST_F(DockerBackendTest, AStartTheEngineCannotFitIsInsufficientResources) {
  engine_.set_capacity(256LL << 20, 8);
  const auto stack = stack::parse_stack_file(kShop, "shop.yaml");
  DockerBackend backend(backend_options());
  stack::Orchestrator orchestrator(stack, backend, clock_, nullptr, orchestrator_options());
  try {
    orchestrator.start_services();
    FAIL() << "expected a StartError";
  } catch (const stack::StartError& e) {
    EXPECT_EQ(e.service(), "db");
    EXPECT_NE(std::string(e.what()).find("insufficient resources"), std::string::npos) << e.what();
  }
  EXPECT_EQ(status(orchestrator.status(), "db").status, ServiceStatus::State::error);
  EXPECT_EQ(status(orchestrator.status(), "cache").status, ServiceStatus::State::stopped);
  EXPECT_TRUE(engine_.containers().empty());
}

TEST_F(DockerBackendTest, EngineRestartsHandTheRestartPolicyToTheEngine) {
  auto options = backend_options();
  options.engine_restarts = true;
  const auto stack = stack::parse_stack_file(kShop, "shop.yaml");
  DockerBackend backend(options);
  stack::Orchestrator orchestrator(stack, backend, clock_, nullptr, orchestrator_options());
  orchestrator.start_services();
  const json db = backend.client().inspect(backend.container_name("db")).raw;
  EXPECT_EQ(db["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
  EXPECT_EQ(db["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 3);
  // The engine restarts a container that died; the handle reads running meanwhile.
  engine_.die(backend.container_name("cache"), 1);
  EXPECT_TRUE(orchestrator.handle("cache")->running());
  ASSERT_TRUE(monitor_until(orchestrator, [&] {
    const auto c = engine_.container(backend.container_name("cache"));
    return c && c->restart_count == 1 && c->status == "running";
  }));
  EXPECT_EQ(status(orchestrator.status(), "cache").restarts, 0) << "the engine restarted it";
}

TEST_F(DockerBackendTest, SaysWhatItCannotRun) {
  DockerBackend backend(backend_options());
  stack::Service gpu;
  gpu.name = "gpu";
  gpu.kind = stack::ServiceKind::gpu;
  EXPECT_NE(backend.unavailable(gpu)->find("device requests"), std::string::npos);
  stack::Service kafka;
  kafka.name = "kafka";
  kafka.kind = stack::ServiceKind::kafka;
  kafka.settings["brokers"] = "3";
  EXPECT_NE(backend.unavailable(kafka)->find("3-broker"), std::string::npos);
  kafka.settings["brokers"] = "1";
  EXPECT_FALSE(backend.unavailable(kafka));
  stack::Service built;
  built.name = "app";
  EXPECT_NE(backend.unavailable(built)->find("names no image"), std::string::npos);

  DockerBackendOptions nowhere;
  nowhere.docker_host = "unix://" + (dir_.path() / "nothing.sock").string();
  DockerBackend unreachable(nowhere);
  stack::Service redis;
  redis.name = "redis";
  redis.kind = stack::ServiceKind::redis;
  const auto why = unreachable.unavailable(redis);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("no Docker engine at unix://"), std::string::npos) << *why;
  DockerBackendOptions bad;
  bad.docker_host = "http://example";
  EXPECT_THROW(DockerBackend{bad}, UsageError);
}

TEST_F(DockerBackendTest, NothingIsLeftBehind) {
  const auto stack = stack::parse_stack_file(kShop, "shop.yaml");
  std::string project;
  {
    DockerBackend backend(backend_options());
    project = backend.project();
    stack::Orchestrator orchestrator(stack, backend, clock_, nullptr, orchestrator_options());
    orchestrator.start_services();
    // The orchestrator goes first (stopping its services), then the backend (its networks).
  }
  EXPECT_TRUE(engine_.containers().empty());
  clients::DockerClient client(clients::DockerHost::parse(engine_.docker_host()));
  for (const auto& n : client.list_networks()) {
    EXPECT_EQ(n.name.find(project), std::string::npos) << n.name << " left behind";
  }
}

TEST(ContainerPlan, ComposeServicesMapOntoTheEngineApi) {
  stack::LoadOptions load;
  load.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  const auto compose = stack::load_compose(
      std::string(FAULTLINE_SOURCE) + "/fixtures/compose/trading-stack.yml", load);
  const auto plan = docker::plan_container(*compose.find("postgres"), "p", false, load.env);
  EXPECT_EQ(plan.name, "p-postgres");
  EXPECT_EQ(plan.body["Image"], "timescale/timescaledb:latest-pg15");
  EXPECT_EQ(plan.body["Healthcheck"]["Interval"], 30'000'000'000LL);
  EXPECT_EQ(plan.body["Healthcheck"]["Retries"], 3);
  EXPECT_EQ(plan.body["HostConfig"]["PortBindings"]["5432/tcp"][0]["HostPort"], "5432");
  EXPECT_EQ(plan.body["HostConfig"]["PortBindings"]["5432/tcp"][0]["HostIp"], "127.0.0.1");
  // The named volume is the project's; the relative bind mount (./backups) is not sent.
  EXPECT_EQ(plan.body["HostConfig"]["Binds"], json({"p_postgres_data:/var/lib/postgresql/data"}));
  EXPECT_EQ(plan.volumes, std::vector<std::string>{"p_postgres_data"});
  EXPECT_EQ(plan.body["HostConfig"]["NetworkMode"], "p_default");
  const auto app = docker::plan_container(*compose.find("trading_app"), "p", true, load.env);
  EXPECT_EQ(app.body["HostConfig"]["NanoCpus"], 2'000'000'000LL);
  EXPECT_EQ(app.body["HostConfig"]["Memory"], 2LL << 30);
  EXPECT_EQ(app.body["HostConfig"]["RestartPolicy"],
            json({{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
}

}  // namespace
}  // namespace faultline::backends
