// ExternalBackend: attaching to a running stack (here, fakes brought up by the fake backend and
// exported as an external stack file), probes only, no hooks.
#include "harness/backends/external_backend.h"

#include <gtest/gtest.h>

#include "harness/backends/external_stack.h"
#include "harness/backends/fake_backend.h"
#include "harness/backends/hooks.h"
#include "harness/core/ports.h"
#include "harness/stack/orchestrator.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("external_backend_test");

namespace faultline::backends {
namespace {

using namespace std::chrono_literals;

constexpr const char* kStack = R"(
stack: staging-like
services:
  db: {kind: postgres, settings: {user: trader, database: trading}, persistent: true}
  cache: {kind: redis, depends_on: [db]}
  locked: {kind: redis, chaos: forbidden}
)";

class ExternalBackendTest : public ::testing::Test {
 protected:
  ExternalBackendTest()
      : running_(stack::parse_stack_file(kStack, "staging-like.yaml")),
        fake_(faultline::testing::test_run_directory(), clock_, loop_),
        fake_orch_(running_, fake_, clock_) {
    fake_orch_.start_services();
    for (const auto& s : running_.services)
      endpoints_[s.name] = fake_orch_.handle(s.name)->endpoint();
    exported_ = external_stack_file(running_, endpoints_, "fake");
    attached_ = stack::parse_stack_file(exported_, "exported.yaml");
  }

  ManualClock clock_;
  EventLoop loop_;
  stack::Stack running_;
  FakeBackend fake_;
  stack::Orchestrator fake_orch_;
  std::map<std::string, stack::Endpoint> endpoints_;
  std::string exported_;
  stack::Stack attached_;
  ExternalBackend external_;
};

TEST_F(ExternalBackendTest, TheExportedStackFileDescribesTheRunningEndpoints) {
  ASSERT_EQ(attached_.services.size(), 3u) << exported_;
  const auto* db = attached_.find("db");
  ASSERT_TRUE(db && db->external);
  EXPECT_EQ(db->external->port, endpoints_["db"].port);
  EXPECT_EQ(db->setting("user"), "trader");
  EXPECT_TRUE(db->persistent);
  EXPECT_EQ(db->chaos, stack::ChaosPolicy::allowed);
  EXPECT_EQ(attached_.find("locked")->chaos, stack::ChaosPolicy::forbidden);
  EXPECT_EQ(attached_.find("cache")->depends_on.at(0).service, "db");
}

TEST_F(ExternalBackendTest, AttachesAndProbesEachServiceInItsProtocol) {
  stack::Orchestrator orch(attached_, external_, clock_);
  for (const auto& st : orch.start_services()) {
    EXPECT_EQ(st.status, stack::ServiceStatus::State::running) << st.service_name << st.detail;
  }
  EXPECT_EQ(orch.handle("db")->endpoint().exports.at("PGPORT"),
            std::to_string(endpoints_["db"].port));
  EXPECT_EQ(orch.handle("cache")->endpoint().exports.at("REDIS_URL"), endpoints_["cache"].url);
  EXPECT_NE(orch.handle("db")->probe().detail.find("accepting"), std::string::npos);
  orch.stop_services();
  EXPECT_TRUE(fake_orch_.handle("db")->probe().ok) << "detaching stops nothing";
}

TEST_F(ExternalBackendTest, OffersNoHooksEvenWhereChaosIsAllowed) {
  stack::Orchestrator orch(attached_, external_, clock_);
  orch.start_services();
  for (const char* s : {"db", "cache", "locked"}) {
    EXPECT_TRUE(orch.handle(s)->hooks().empty()) << s;
    EXPECT_THROW(orch.handle(s)->apply_hook(hook::kKill, {}), UsageError) << s;
  }
}

TEST_F(ExternalBackendTest, ChaosIsForbiddenByDefaultOnExternalServices) {
  const auto s = stack::parse_stack_file(
      "stack: s\nservices:\n  r: {kind: redis, external: {host: 127.0.0.1, port: " +
          std::to_string(endpoints_["cache"].port) + "}}\n",
      "s.yaml");
  EXPECT_FALSE(stack::chaos_allowed(s.services[0], "external"));
  EXPECT_TRUE(stack::chaos_allowed(s.services[0], "fake"));
  stack::Orchestrator orch(s, external_, clock_);
  orch.start_services();
  try {
    orch.handle("r")->apply_hook(hook::kPause, {});
    FAIL() << "a hook was applied";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("external backend"), std::string::npos) << e.what();
  }
}

TEST_F(ExternalBackendTest, AServiceWithoutAnEndpointOrThatIsDownIsAnErrorNamingIt) {
  const auto none = stack::parse_stack_file("stack: s\nservices:\n  r: {kind: redis}\n", "s.yaml");
  EXPECT_NE(external_.unavailable(none.services[0])->find("external:"), std::string::npos);
  const int closed = pick_free_port();
  const auto down = stack::parse_stack_file(
      "stack: s\nservices:\n  k: {kind: kafka, external: {host: 127.0.0.1, port: " +
          std::to_string(closed) + "}}\n",
      "s.yaml");
  stack::OrchestratorOptions o;
  o.health_timeout = 1s;  // on the ManualClock
  stack::Orchestrator orch(down, external_, clock_, nullptr, o);
  try {
    orch.start_services();
    FAIL() << "started";
  } catch (const stack::StartError& e) {
    EXPECT_EQ(e.service(), "k");
    EXPECT_NE(std::string(e.what()).find("connect 127.0.0.1:" + std::to_string(closed)),
              std::string::npos)
        << e.what();
  }
}

TEST(ExternalStackSchema, BadExternalEntriesAreInputErrorsWithTheLine) {
  const char* cases[] = {
      "stack: s\nservices:\n  r:\n    kind: redis\n    external: {host: h}\n",
      "stack: s\nservices:\n  r:\n    kind: redis\n    external: {hots: h, port: 1}\n",
      "stack: s\nservices:\n  r:\n    kind: redis\n    chaos: allow\n",
  };
  for (const char* text : cases) {
    try {
      stack::parse_stack_file(text, "bad.yaml");
      ADD_FAILURE() << "accepted:\n" << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.yaml:"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace faultline::backends
