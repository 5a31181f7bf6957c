// REQ-INFRA-01 in local mode: the Orchestrator brings up seed 003's Redis compose file as real
// redis-server processes, restarts a killed one with its data, and shuts down gracefully.
#include <hiredis/hiredis.h>
#include <signal.h>

#include <gtest/gtest.h>

#include "harness/backends/local_backend.h"
#include "harness/core/log.h"
#include "harness/stack/orchestrator.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using faultline::testing::wait_until;

// One command through hiredis; "" on any failure.
std::string redis(int port, const std::string& command) {
  const timeval timeout{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (!c || c->err) {
    if (c) redisFree(c);
    return "";
  }
  auto* reply = static_cast<redisReply*>(redisCommand(c, command.c_str()));
  std::string out = reply && reply->str ? std::string(reply->str, reply->len) : "";
  if (reply) freeReplyObject(reply);
  redisFree(c);
  return out;
}

class LocalOrchestration : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!backends::find_program("redis-server")) GTEST_SKIP() << "redis-server is not installed";
    stack::LoadOptions options;
    options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    stack_ =
        stack::load_compose(std::string(FAULTLINE_SOURCE) + "/fixtures/compose/redis.yml", options);
    run_.emplace(RunDirectory::create("req_infra_01_local", {.root = tmp_.path()}));
    backend_.emplace(*run_, clock_);
  }

  stack::OrchestratorOptions fast() {
    stack::OrchestratorOptions o;
    o.backoff_base = 10ms;
    o.poll_interval = 20ms;
    o.stop_grace = 10s;
    return o;
  }

  faultline::testing::TempDir tmp_;
  RealClock clock_;
  stack::Stack stack_;
  std::optional<RunDirectory> run_;
  std::optional<backends::LocalBackend> backend_;
};

TEST_F(LocalOrchestration, StartsTheSeedsRedisPairInDependencyOrder) {
  FAULTLINE_COVERS("UT-INFRA-01.1");
  Journal journal(clock_);
  stack::Orchestrator o(stack_, *backend_, clock_, &journal, fast());
  const auto statuses = o.start_services();
  for (const auto& st : statuses) EXPECT_EQ(st.status, stack::ServiceStatus::State::running);
  // The replica started only after the primary answered PING.
  std::size_t primary_ready = 0, replica_start = 0;
  for (const auto& e : journal.events()) {
    if (e.kind == "service.ready" && e.subject == "redis-primary") primary_ready = e.seq;
    if (e.kind == "service.start" && e.subject == "redis-replica") replica_start = e.seq;
  }
  EXPECT_GT(primary_ready, 0u);
  EXPECT_GT(replica_start, primary_ready);
  for (const auto& name : {"redis-primary", "redis-replica"}) {
    EXPECT_EQ(redis(o.handle(name)->endpoint().port, "PING"), "PONG") << name;
  }
  // The compose file's command line became the server's settings.
  const std::string memory = redis(o.handle("redis-primary")->endpoint().port, "INFO memory");
  EXPECT_NE(memory.find("maxmemory_policy:allkeys-lru"), std::string::npos) << memory;
  EXPECT_NE(memory.find("maxmemory:137438953472"), std::string::npos) << "128gb";
}

TEST_F(LocalOrchestration, RestartsAKilledServerWhichKeepsItsData) {
  FAULTLINE_COVERS("UT-INFRA-01.2");
  // The seed's file sets no restart policy (compose's default is "no"); a stack that wants its
  // cache back after a crash says so.
  for (auto& s : stack_.services) s.restart.mode = stack::RestartPolicy::Mode::unless_stopped;
  stack::Orchestrator o(stack_, *backend_, clock_, nullptr, fast());
  o.start_services();
  const int old_port = o.handle("redis-primary")->endpoint().port;
  ASSERT_EQ(redis(old_port, "SET order:1 filled"), "OK");
  // Kill the process behind the service, as a crash would.
  std::string pid_line;
  for (const auto& l : o.handle("redis-primary")->logs()) {
    if (l.find("pid=") != std::string::npos) pid_line = l;
  }
  const auto pid_at = pid_line.find("pid=");
  ASSERT_NE(pid_at, std::string::npos) << "redis logs its pid at start";
  const pid_t pid = std::stoi(pid_line.substr(pid_at + 4));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  log::configure({.level = log::Level::off});
  const bool restarted = wait_until([&] {
    for (const auto& st : o.monitor_health()) {
      if (st.service_name == "redis-primary" && st.restarts == 1 &&
          st.status == stack::ServiceStatus::State::running) {
        return true;
      }
    }
    return false;
  });
  log::configure({});
  ASSERT_TRUE(restarted);
  const int port = o.handle("redis-primary")->endpoint().port;
  ASSERT_TRUE(wait_until([&] { return redis(port, "PING") == "PONG"; }));
  EXPECT_EQ(redis(port, "GET order:1"), "filled") << "a persistent service keeps its data";
}

TEST_F(LocalOrchestration, StopsGracefullyInReverseOrder) {
  FAULTLINE_COVERS("UT-INFRA-01.3");
  Journal journal(clock_);
  stack::Orchestrator o(stack_, *backend_, clock_, &journal, fast());
  o.start_services();
  const auto primary_log = run_->path() / "services" / "redis-primary" / "redis.log";
  const int port = o.handle("redis-primary")->endpoint().port;
  o.stop_services();
  std::vector<std::string> order;
  for (const auto& e : journal.events()) {
    if (e.kind == "service.stop") order.push_back(e.subject);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"redis-replica", "redis-primary"}));
  EXPECT_EQ(redis(port, "PING"), "") << "nothing listens any more";
  const std::string log = faultline::testing::read_file(primary_log);
  EXPECT_NE(log.find("ready to exit, bye bye"), std::string::npos)
      << "redis shut down on SIGTERM, not killed:\n"
      << log;
}

}  // namespace
}  // namespace faultline
