// Wait strategies: each leaf, the combinators and their timeouts on the ManualClock, the `wait:`
// grammar of stack files (and compose's x-faultline-wait) with file:line errors, and the
// Orchestrator waiting with them.
#include "harness/stack/wait_strategy.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness/core/event_loop.h"
#include "harness/core/http_server.h"
#include "harness/stack/orchestrator.h"

namespace faultline::stack {
namespace {

using namespace std::chrono_literals;

// A handle whose log, health and endpoint a test scripts.
class ScriptedHandle : public ServiceHandle {
 public:
  const Endpoint& endpoint() const override { return endpoint_; }
  ProbeResult probe() override {
    ++probes;
    return {healthy, healthy ? "healthy" : "unhealthy"};
  }
  bool running() const override { return !exit_code_; }
  std::optional<int> exit_code() const override { return exit_code_; }
  void stop(std::chrono::milliseconds) override { exit_code_ = 0; }
  std::vector<std::string> logs() const override { return log; }
  bool keeps_logs() const override { return keeps; }

  Endpoint endpoint_ = [] {
    Endpoint e;
    e.host = "127.0.0.1";
    return e;
  }();
  std::vector<std::string> log;
  bool healthy = false;
  bool keeps = true;
  int probes = 0;

 private:
  std::optional<int> exit_code_;
};

// A loopback TCP listener (connections queue in the backlog; nobody needs to accept them).
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

WaitSpec leaf(WaitSpec::Kind kind) {
  WaitSpec s;
  s.kind = kind;
  return s;
}

WaitSpec log_spec(const std::string& pattern, int times) {
  WaitSpec s = leaf(WaitSpec::Kind::log);
  s.pattern = pattern;
  s.times = times;
  return s;
}

WaitSpec combine(WaitSpec::Kind kind, std::vector<WaitSpec> children,
                 std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
  WaitSpec s = leaf(kind);
  s.children = std::move(children);
  s.timeout = timeout;
  return s;
}

TEST(WaitStrategy, LogLineCountsOccurrences) {
  ManualClock clock;
  ScriptedHandle h;
  auto w = make_wait_strategy(log_spec("ready to accept", 2));
  w->begin(clock.now());
  EXPECT_FALSE(w->check(h, clock.now()).ready());
  h.log = {"starting", "database system is ready to accept connections"};
  const auto once = w->check(h, clock.now());
  EXPECT_FALSE(once.ready());
  EXPECT_EQ(once.detail, "log /ready to accept/ seen 1 of 2");
  h.log.push_back("database system is ready to accept connections");
  EXPECT_TRUE(w->check(h, clock.now()).ready());
  EXPECT_EQ(w->describe(), "log /ready to accept/ x2");
}

TEST(WaitStrategy, PortOpenConnectsToTheEndpointOrAGivenPort) {
  ManualClock clock;
  ScriptedHandle h;
  Listener listener;
  h.endpoint_.port = listener.port();
  auto endpoint_port = make_wait_strategy(leaf(WaitSpec::Kind::port));
  endpoint_port->begin(clock.now());
  EXPECT_TRUE(endpoint_port->check(h, clock.now()).ready());
  listener.close();
  const auto shut = endpoint_port->check(h, clock.now());
  EXPECT_FALSE(shut.ready());
  EXPECT_FALSE(shut.failed());
  EXPECT_NE(shut.detail.find("refused"), std::string::npos) << shut.detail;
  // Without a port anywhere the wait cannot ever hold: it fails at once.
  h.endpoint_.port = 0;
  EXPECT_TRUE(endpoint_port->check(h, clock.now()).failed());
}

TEST(WaitStrategy, HealthIsTheHandlesProbe) {
  ManualClock clock;
  ScriptedHandle h;
  auto w = make_wait_strategy(leaf(WaitSpec::Kind::health));
  w->begin(clock.now());
  EXPECT_FALSE(w->check(h, clock.now()).ready());
  h.healthy = true;
  EXPECT_TRUE(w->check(h, clock.now()).ready());
  EXPECT_EQ(h.probes, 2);
}

TEST(WaitStrategy, AllOfWaitsInOrderAndLatchesWhatHeld) {
  ManualClock clock;
  ScriptedHandle h;
  auto w = make_wait_strategy(
      combine(WaitSpec::Kind::all_of, {log_spec("Ready", 1), leaf(WaitSpec::Kind::health)}));
  w->begin(clock.now());
  h.healthy = true;
  EXPECT_FALSE(w->check(h, clock.now()).ready());
  EXPECT_EQ(h.probes, 0) << "the health probe waits for the log line before it";
  h.log = {"Ready to accept connections"};
  EXPECT_TRUE(w->check(h, clock.now()).ready());
  // The log line is latched: a log rotated away later does not undo it within this start.
  h.log.clear();
  EXPECT_TRUE(w->check(h, clock.now()).ready());
  // A new start forgets it.
  w->begin(clock.now());
  EXPECT_FALSE(w->check(h, clock.now()).ready());
  EXPECT_EQ(w->describe(), "all_of(log /Ready/, health)");
}

TEST(WaitStrategy, AnyOfHoldsWithOneChild) {
  ManualClock clock;
  ScriptedHandle h;
  auto w = make_wait_strategy(
      combine(WaitSpec::Kind::any_of, {log_spec("never", 1), leaf(WaitSpec::Kind::health)}));
  w->begin(clock.now());
  EXPECT_FALSE(w->check(h, clock.now()).ready());
  h.healthy = true;
  EXPECT_TRUE(w->check(h, clock.now()).ready());
}

TEST(WaitStrategy, ATimeoutFailsTheWaitOnceItHasPassedOnTheClock) {
  ManualClock clock;
  ScriptedHandle h;
  auto w = make_wait_strategy(
      combine(WaitSpec::Kind::all_of, {leaf(WaitSpec::Kind::health)}, std::chrono::seconds(5)));
  w->begin(clock.now());
  clock.advance(4999ms);
  EXPECT_FALSE(w->check(h, clock.now()).failed());
  clock.advance(1ms);
  const auto r = w->check(h, clock.now());
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.detail, "all_of(health) did not hold within 5000 ms; last: unhealthy");
  // A timeout on a child fails any_of only when every child has failed.
  WaitSpec slow = leaf(WaitSpec::Kind::health);
  slow.timeout = 1s;
  auto any = make_wait_strategy(combine(WaitSpec::Kind::any_of, {slow, log_spec("x", 1)}));
  any->begin(clock.now());
  clock.advance(2s);
  EXPECT_FALSE(any->check(h, clock.now()).failed());
  h.log = {"x"};
  EXPECT_TRUE(any->check(h, clock.now()).ready());
}

TEST(WaitStrategy, HttpWantsTheStatusAndTheBody) {
  EventLoop loop;
  int status = 503;
  HttpServer server(loop, [&](const HttpRequest& r) {
    if (r.path != "/health") return HttpReply::text(404, "no");
    return HttpReply::text(status, status == 200 ? "{\"status\":\"ok\"}" : "starting");
  });
  server.start();
  ManualClock clock;
  ScriptedHandle h;
  h.endpoint_.port = server.port();
  WaitSpec spec = leaf(WaitSpec::Kind::http);
  spec.path = "/health";
  spec.body = "\"status\":\"ok\"";
  auto w = make_wait_strategy(spec);
  w->begin(clock.now());
  const auto starting = w->check(h, clock.now());
  EXPECT_FALSE(starting.ready());
  EXPECT_EQ(starting.detail, "GET /health answered 503, want 200");
  status = 200;
  EXPECT_TRUE(w->check(h, clock.now()).ready());
  spec.body = "degraded";
  auto wrong_body = make_wait_strategy(spec);
  wrong_body->begin(clock.now());
  EXPECT_NE(wrong_body->check(h, clock.now()).detail.find("body does not match"),
            std::string::npos);
}

TEST(WaitStrategy, CommandRunsWithTheEndpointInItsEnvironment) {
  ManualClock clock;
  ScriptedHandle h;
  h.endpoint_.port = 6390;
  h.endpoint_.exports = {{"REDIS_URL", "redis://127.0.0.1:6390/0"}};
  WaitSpec spec = leaf(WaitSpec::Kind::command);
  spec.command = {"sh", "-c",
                  "test \"$FAULTLINE_PORT:$REDIS_URL\" = 6390:redis://127.0.0.1:6390/0"};
  auto w = make_wait_strategy(spec);
  w->begin(clock.now());
  EXPECT_TRUE(w->check(h, clock.now()).ready());
  spec.command = {"false"};
  auto failing = make_wait_strategy(spec);
  failing->begin(clock.now());
  const auto r = failing->check(h, clock.now());
  EXPECT_FALSE(r.ready());
  EXPECT_EQ(r.detail, "`false` exit 1");
}

TEST(WaitStrategy, TheDefaultIsPortLogAndHealthWhereEachExists) {
  ScriptedHandle h;
  Service pg;
  pg.kind = ServiceKind::postgres;
  h.endpoint_.port = 5432;
  EXPECT_EQ(wait_strategy_for(pg, h)->describe(),
            "all_of(port, log /database system is ready to accept connections/, health)");
  h.keeps = false;  // a fake keeps no log: port and health
  EXPECT_EQ(wait_strategy_for(pg, h)->describe(), "all_of(port, health)");
  h.endpoint_.port = 0;
  EXPECT_EQ(wait_strategy_for(pg, h)->describe(), "all_of(health)");
  pg.wait = log_spec("custom", 1);
  EXPECT_EQ(wait_strategy_for(pg, h)->describe(), "log /custom/");
}

const char* kStackWithWaits = R"(stack: waits
services:
  db:
    kind: postgres
    wait:
      all:
        - port: endpoint
        - log: {pattern: "ready to accept connections", times: 2}
        - sql: "SELECT 1"
      timeout: 45s
  web:
    kind: container
    image: nginx
    wait: {any: [{http: {path: /health, status: 204, body: ok}}, {port: 8080}]}
  cache:
    kind: redis
    wait: [port, health, {command: "redis-cli -p $FAULTLINE_PORT ping"}]
)";

TEST(WaitGrammar, StackFilesDescribeCompositions) {
  const Stack stack = parse_stack_file(kStackWithWaits, "waits.yaml");
  const auto& db = *stack.find("db")->wait;
  ASSERT_EQ(db.kind, WaitSpec::Kind::all_of);
  EXPECT_EQ(db.timeout, std::chrono::milliseconds(45'000));
  ASSERT_EQ(db.children.size(), 3u);
  EXPECT_EQ(db.children[0].port, 0);
  EXPECT_EQ(db.children[1].times, 2);
  EXPECT_EQ(db.children[2].sql, "SELECT 1");
  const auto& web = *stack.find("web")->wait;
  EXPECT_EQ(web.kind, WaitSpec::Kind::any_of);
  EXPECT_EQ(web.children[0].status, 204);
  EXPECT_EQ(web.children[1].port, 8080);
  const auto& cache = *stack.find("cache")->wait;
  EXPECT_EQ(make_wait_strategy(cache)->describe(), "all_of(port, health, command `redis-cli`)");
}

std::string load_error(const std::string& wait_yaml) {
  const std::string text =
      "stack: bad\nservices:\n  db:\n    kind: postgres\n    wait: " + wait_yaml + "\n";
  try {
    parse_stack_file(text, "bad.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(WaitGrammar, ErrorsNameTheFileAndLine) {
  EXPECT_NE(load_error("{prot: 5432}").find("bad.yaml:5"), std::string::npos)
      << load_error("{prot: 5432}");
  EXPECT_NE(load_error("{prot: 5432}").find("'port'"), std::string::npos);
  EXPECT_NE(load_error("helth").find("did you mean 'health'"), std::string::npos)
      << load_error("helth");
  EXPECT_NE(load_error("{log: \"([\"}").find("is not a regex"), std::string::npos);
  EXPECT_NE(load_error("{log: \"([\"}").find("bad.yaml:5"), std::string::npos);
  EXPECT_NE(load_error("{port: 1, log: x}").find("both 'port' and 'log'"), std::string::npos);
  EXPECT_NE(load_error("{port: 70000}").find("bad.yaml:5"), std::string::npos);
  EXPECT_NE(load_error("{all: []}").find("non-empty list"), std::string::npos);
  EXPECT_NE(load_error("{http: health}").find("starts with '/'"), std::string::npos);
  EXPECT_NE(load_error("{log: x, timeout: soon}").find("bad.yaml:5"), std::string::npos);
}

TEST(WaitGrammar, TheTimescaleExampleWaitsForTwoReadyLines) {
  LoadOptions load;
  load.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  const Stack ts =
      load_compose(std::string(FAULTLINE_SOURCE) + "/fixtures/compose/timescale.yml", load);
  const auto& primary = *ts.find("timescaledb-primary");
  ASSERT_TRUE(primary.wait);
  EXPECT_EQ(make_wait_strategy(*primary.wait)->describe(),
            "all_of(log /database system is ready to accept connections/ x2, health)");
  EXPECT_EQ(primary.wait->timeout, std::chrono::milliseconds(120'000));
  EXPECT_FALSE(ts.find("timescaledb-replica-1")->wait);
}

TEST(WaitGrammar, ComposeTakesItAsAnExtension) {
  const Stack stack = parse_compose(R"(services:
  db:
    image: postgres:15
    x-faultline-wait:
      log: {pattern: "ready to accept connections", times: 2}
)",
                                    "docker-compose.yml");
  ASSERT_TRUE(stack.services[0].wait);
  EXPECT_EQ(stack.services[0].wait->times, 2);
}

// The Orchestrator waits with the service's strategy; a wait that fails names the service.
class LogBackend : public Backend {
 public:
  std::string name() const override { return "scripted"; }
  std::optional<std::string> unavailable(const Service&) const override { return std::nullopt; }
  std::unique_ptr<ServiceHandle> start(const Service&, const StartRequest&) override {
    auto h = std::make_unique<ScriptedHandle>();
    h->healthy = true;
    last = h.get();
    return h;
  }
  ScriptedHandle* last = nullptr;
};

TEST(WaitStrategy, TheOrchestratorWaitsWithTheServicesStrategy) {
  Stack stack = parse_stack_file(R"(stack: s
services:
  db:
    kind: postgres
    wait: {log: {pattern: ready, times: 2}, timeout: 3s}
)",
                                 "s.yaml");
  ManualClock clock;
  LogBackend backend;
  // The log line shows up twice 1.5 s after the start (on the clock): the start waits for it.
  Orchestrator ok(stack, backend, clock);
  clock.call_after(1500ms, [&] { backend.last->log = {"ready", "ready"}; });
  const TimePoint before = clock.now();
  EXPECT_EQ(ok.start_services()[0].status, ServiceStatus::State::running);
  EXPECT_GE(clock.now() - before, 1500ms);
  ok.stop_services();
  // Never there: the strategy's own timeout (3 s, under the 30 s health timeout) fails it.
  Orchestrator late(stack, backend, clock);
  const TimePoint start = clock.now();
  try {
    late.start_services();
    FAIL() << "expected a StartError";
  } catch (const StartError& e) {
    EXPECT_EQ(e.service(), "db");
    EXPECT_NE(std::string(e.what()).find("did not hold within 3000 ms"), std::string::npos)
        << e.what();
  }
  EXPECT_LT(clock.now() - start, 4s);
  EXPECT_EQ(late.status()[0].status, ServiceStatus::State::error);
}

}  // namespace
}  // namespace faultline::stack
