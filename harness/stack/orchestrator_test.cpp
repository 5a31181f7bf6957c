// The Orchestrator against a scripted backend — the seed's "mock Docker daemon with controllable
// container states" — on the simulated clock: start order, restarts with backoff, shutdown order,
// resource limits, health timeouts, and the start-order/persistence property over random stacks.
#include "harness/stack/orchestrator.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "harness/core/log.h"
#include "harness/testing/covers.h"
#include "harness/testing/property.h"

namespace faultline::stack {
namespace {

using namespace std::chrono_literals;

// What each scripted service does.
struct Script {
  int probes_until_healthy = 1;  // the Nth probe passes
  bool never_healthy = false;
};

class ScriptedBackend : public Backend {
 public:
  std::vector<std::string> events;  // "start:x", "ready-probe:x", "stop:x"
  std::map<std::string, Script> scripts;
  std::map<std::string, std::string> data;       // each service's data; wiped on a fresh start
  std::optional<std::uint64_t> memory_capacity;  // like a Docker engine's
  std::uint64_t memory_used = 0;

  class Handle : public ServiceHandle {
   public:
    Handle(ScriptedBackend& b, const Service& s) : b_(b), s_(s) {
      endpoint_.host = "127.0.0.1";
      endpoint_.url = "scripted://" + s.name;
    }
    const Endpoint& endpoint() const override { return endpoint_; }
    ProbeResult probe() override {
      ++probes_;
      const Script& script = b_.scripts[s_.name];
      const bool ok = !script.never_healthy && probes_ >= script.probes_until_healthy;
      if (ok && !announced_) {
        b_.events.push_back("ready:" + s_.name);
        announced_ = true;
      }
      return {ok, "probe " + std::to_string(probes_) + (ok ? " ok" : " refused")};
    }
    bool running() const override { return !exit_code_; }
    std::optional<int> exit_code() const override { return exit_code_; }
    void stop(std::chrono::milliseconds grace) override {
      b_.events.push_back("stop:" + s_.name + "/" + std::to_string(grace.count()));
      b_.memory_used -= s_.limits.memory_bytes.value_or(0);
      if (!exit_code_) exit_code_ = 0;
    }
    void crash(int code) { exit_code_ = code; }

   private:
    ScriptedBackend& b_;
    const Service& s_;
    Endpoint endpoint_;
    int probes_ = 0;
    bool announced_ = false;
    std::optional<int> exit_code_;
  };

  std::string name() const override { return "scripted"; }
  std::optional<std::string> unavailable(const Service&) const override { return std::nullopt; }
  std::unique_ptr<ServiceHandle> start(const Service& s, const StartRequest& request) override {
    const auto need = s.limits.memory_bytes.value_or(0);
    if (memory_capacity && memory_used + need > *memory_capacity) {
      throw ResourceError("needs " + std::to_string(need >> 20) + " MiB, " +
                          std::to_string((*memory_capacity - memory_used) >> 20) + " MiB free");
    }
    memory_used += need;
    if (request.fresh_data) data[s.name].clear();
    events.push_back("start:" + s.name);
    return std::make_unique<Handle>(*this, s);
  }

  std::size_t index_of(const std::string& event) const {
    return std::find(events.begin(), events.end(), event) - events.begin();
  }
};

LoadOptions no_env() {
  LoadOptions o;
  o.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return o;
}

class OrchestratorTest : public ::testing::Test {
 protected:
  Stack trading_ =
      load_compose(std::string(FAULTLINE_SOURCE) + "/fixtures/compose/trading-stack.yml", no_env());
  ManualClock clock_;
  Journal journal_{clock_};
  ScriptedBackend backend_;
};

TEST_F(OrchestratorTest, StartsAComposeStackInDependencyOrder) {
  FAULTLINE_COVERS("UT-INFRA-01.1");
  backend_.scripts["postgres"].probes_until_healthy = 5;  // slow to accept connections
  backend_.scripts["trading_app"].probes_until_healthy = 3;
  Orchestrator o(trading_, backend_, clock_, &journal_);
  const auto statuses = o.start_services();
  for (const auto& s : trading_.services) {
    for (const auto& d : s.depends_on) {
      EXPECT_LT(backend_.index_of("ready:" + d.service), backend_.index_of("start:" + s.name))
          << s.name << " started before " << d.service << " was ready";
    }
  }
  EXPECT_LT(backend_.index_of("start:redis"), backend_.index_of("ready:postgres"))
      << "independent services start together, not one after another";
  ASSERT_EQ(statuses.size(), trading_.services.size());
  for (const auto& st : statuses) {
    EXPECT_EQ(st.status, ServiceStatus::State::running) << st.service_name;
    EXPECT_GE(st.uptime_seconds, 0);
    EXPECT_EQ(st.health_check_url, "scripted://" + st.service_name);
  }
}

TEST_F(OrchestratorTest, RestartsAFailedContainerWithBackoffAndUpdatesItsStatus) {
  FAULTLINE_COVERS("UT-INFRA-01.2");
  OrchestratorOptions options;
  options.backoff_base = 2s;
  Orchestrator o(trading_, backend_, clock_, &journal_, options);
  o.start_services();
  auto* redis = dynamic_cast<ScriptedBackend::Handle*>(o.handle("redis"));
  ASSERT_NE(redis, nullptr);
  redis->crash(137);
  auto st = o.monitor_health();
  auto redis_status = [&](const std::vector<ServiceStatus>& all) {
    return *std::find_if(all.begin(), all.end(),
                         [](const auto& s) { return s.service_name == "redis"; });
  };
  EXPECT_EQ(redis_status(st).status, ServiceStatus::State::stopped) << "waiting out the backoff";
  EXPECT_NE(redis_status(st).detail.find("exited with code 137"), std::string::npos);
  clock_.advance(1s);
  EXPECT_EQ(redis_status(o.monitor_health()).status, ServiceStatus::State::stopped);
  clock_.advance(1s);
  st = o.monitor_health();
  EXPECT_EQ(redis_status(st).status, ServiceStatus::State::running);
  EXPECT_EQ(redis_status(st).restarts, 1);
  bool journaled = false;
  for (const auto& e : journal_.events()) {
    journaled |= e.kind == "service.restart_scheduled" && e.subject == "redis" &&
                 e.fields["backoff_ms"] == 2000;
  }
  EXPECT_TRUE(journaled);
}

TEST_F(OrchestratorTest, GivesUpAfterTheRestartAttemptsWithAnErrorStatus) {
  FAULTLINE_COVERS("UT-INFRA-01.2");
  Orchestrator o(trading_, backend_, clock_, &journal_);  // SERVICE_RESTART_ATTEMPTS = 3
  o.start_services();
  std::vector<std::chrono::milliseconds> backoffs;
  for (int attempt = 0; attempt < 4; ++attempt) {
    dynamic_cast<ScriptedBackend::Handle*>(o.handle("postgres"))->crash(1);
    o.monitor_health();
    clock_.advance(10min);
    o.monitor_health();
  }
  for (const auto& e : journal_.events()) {
    if (e.kind == "service.restart_scheduled")
      backoffs.emplace_back(e.fields["backoff_ms"].get<int>());
  }
  EXPECT_EQ(backoffs, (std::vector<std::chrono::milliseconds>{1s, 2s, 4s})) << "exponential";
  const auto st = o.status();
  const auto pg = *std::find_if(st.begin(), st.end(),
                                [](const auto& s) { return s.service_name == "postgres"; });
  EXPECT_EQ(pg.status, ServiceStatus::State::error);
  EXPECT_EQ(pg.restarts, 3);
}

TEST_F(OrchestratorTest, StopsInReverseDependencyOrderGracefully) {
  FAULTLINE_COVERS("UT-INFRA-01.3");
  OrchestratorOptions options;
  options.stop_grace = 7s;
  Orchestrator o(trading_, backend_, clock_, &journal_, options);
  o.start_services();
  backend_.events.clear();
  o.stop_services();
  for (const auto& s : trading_.services) {
    for (const auto& d : s.depends_on) {
      EXPECT_LT(backend_.index_of("stop:" + s.name + "/7000"),
                backend_.index_of("stop:" + d.service + "/7000"))
          << d.service << " stopped while " << s.name << " still needed it";
    }
  }
  EXPECT_EQ(backend_.events.size(), trading_.services.size());
  for (const auto& st : o.status()) EXPECT_EQ(st.status, ServiceStatus::State::stopped);
  o.stop_services();
  EXPECT_EQ(backend_.events.size(), trading_.services.size()) << "stopping twice stops nothing";
}

TEST_F(OrchestratorTest, InsufficientResourcesFailTheServiceAndStopTheRest) {
  FAULTLINE_COVERS("ET-INFRA-01.1");
  backend_.memory_capacity = 1ull << 30;  // 1 GiB: the app's 2g limit does not fit
  Orchestrator o(trading_, backend_, clock_, &journal_);
  try {
    o.start_services();
    ADD_FAILURE() << "expected a StartError";
  } catch (const StartError& e) {
    EXPECT_EQ(e.service(), "trading_app");
    EXPECT_NE(std::string(e.what()).find("insufficient resources"), std::string::npos) << e.what();
  }
  EXPECT_EQ(backend_.index_of("start:nginx"), backend_.events.size()) << "dependents not started";
  EXPECT_EQ(backend_.memory_used, 0u) << "what was started is stopped";
  for (const auto& st : o.status()) {
    EXPECT_EQ(st.status, st.service_name == "trading_app" ? ServiceStatus::State::error
                                                          : ServiceStatus::State::stopped);
  }
}

TEST_F(OrchestratorTest, AServiceThatNeverBecomesHealthyTimesOutWithItsLastProbe) {
  backend_.scripts["redis"].never_healthy = true;
  OrchestratorOptions options;
  options.health_timeout = 30s;
  Orchestrator o(trading_, backend_, clock_, &journal_, options);
  const auto before = clock_.now();
  try {
    o.start_services();
    ADD_FAILURE() << "expected a StartError";
  } catch (const StartError& e) {
    EXPECT_EQ(e.service(), "redis");
    EXPECT_NE(std::string(e.what()).find("last probe: probe"), std::string::npos) << e.what();
  }
  EXPECT_GE(clock_.now() - before, 30s) << "the timeout is on the harness clock";
  EXPECT_EQ(backend_.index_of("start:trading_app"), backend_.events.size());
}

// Property over random stacks: dependencies are always ready before a dependent starts; a service
// that never becomes healthy leaves its dependents unstarted and nothing running; a restart keeps
// a persistent service's data and gives a non-persistent one fresh data.
TEST(OrchestratorProperty, StartOrderRespectsDependenciesAndRestartsKeepPersistentData) {
  FAULTLINE_COVERS("PT-INFRA-01.1");
  log::configure({.level = log::Level::off});  // the failing stacks would each log their error
  testing::check_property([] {
    const int n = *rc::gen::inRange(1, 9);
    Stack stack;
    stack.name = "random";
    for (int i = 0; i < n; ++i) {
      Service s;
      s.name = "s" + std::to_string(i);
      s.persistent = *rc::gen::arbitrary<bool>();
      s.restart.mode = RestartPolicy::Mode::always;
      for (int j = 0; j < i; ++j) {
        if (*rc::gen::inRange(0, 3) == 0)
          s.depends_on.push_back({.service = "s" + std::to_string(j), .where = {}});
      }
      stack.services.push_back(std::move(s));
    }
    validate(stack);
    ManualClock clock;
    ScriptedBackend backend;
    for (const auto& s : stack.services) {
      backend.scripts[s.name].probes_until_healthy = *rc::gen::inRange(1, 6);
    }
    // Half the stacks come up whole (-1); in the others one service never becomes healthy.
    const int broken = *rc::gen::arbitrary<bool>() ? -1 : *rc::gen::inRange(0, n);
    if (broken >= 0) backend.scripts["s" + std::to_string(broken)].never_healthy = true;
    Orchestrator o(stack, backend, clock);
    bool started = true;
    try {
      o.start_services();
    } catch (const StartError& e) {
      started = false;
      RC_ASSERT(e.service() == "s" + std::to_string(broken));
    }
    RC_ASSERT(started == (broken < 0));
    for (const auto& s : stack.services) {
      for (const auto& d : s.depends_on) {
        if (backend.index_of("start:" + s.name) < backend.events.size()) {
          RC_ASSERT(backend.index_of("ready:" + d.service) < backend.index_of("start:" + s.name));
        }
      }
    }
    if (!started) {
      RC_ASSERT(backend.memory_used == 0u);
      for (const auto& st : o.status()) RC_ASSERT(st.status != ServiceStatus::State::running);
      return;
    }
    // Write data, crash one service, let monitor_health restart it.
    for (const auto& s : stack.services) backend.data[s.name] = "rows of " + s.name;
    const auto& victim = stack.services[*rc::gen::inRange<std::size_t>(0, stack.services.size())];
    dynamic_cast<ScriptedBackend::Handle*>(o.handle(victim.name))->crash(1);
    o.monitor_health();
    clock.advance(1h);
    o.monitor_health();
    RC_ASSERT(o.handle(victim.name) != nullptr);
    RC_ASSERT(backend.data[victim.name] ==
              (victim.persistent ? "rows of " + victim.name : std::string()));
  });
  log::configure({});
}

}  // namespace
}  // namespace faultline::stack
