// Every fault control of the Redis fake, through the C++ API and through the HTTP control
// endpoint. Waits are for conditions (bounded), never for time; latency runs on the ManualClock.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fakes/redis/control_http.h"
#include "fakes/redis/fake_fixture.h"
#include "harness/core/journal.h"

namespace faultline::fakes::redis::testing {
namespace {

using namespace std::chrono_literals;

// Polls `cond` until it holds, at most 20 s (a bound, not a synchronisation by time).
template <class F>
bool eventually(F cond) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::yield();
  }
  return cond();
}

constexpr const char* kPing = "*1\r\n$4\r\nPING\r\n";

TEST_F(FakeRedisTest, RefuseConnectionsStopsListeningUntilHealed) {
  const auto port = fake->port();
  fake->refuse_connections(true);
  EXPECT_FALSE(RedisTestClient::try_tcp("127.0.0.1", port).has_value());
  EXPECT_EQ(cmd({"PING"}), "+PONG");  // existing clients are not affected
  fake->refuse_connections(false);
  auto again = RedisTestClient::try_tcp("127.0.0.1", port);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->cmd({"PING"}), "+PONG");
}

TEST_F(FakeRedisTest, CloseAllClientsDropsEveryConnection) {
  auto other = connect();
  EXPECT_EQ(other.cmd({"PING"}), "+PONG");
  fake->close_all_clients();
  EXPECT_EQ(cmd({"PING"}).substr(0, 1), "!");
  EXPECT_EQ(other.cmd({"PING"}).substr(0, 1), "!");
  EXPECT_EQ(connect().cmd({"PING"}), "+PONG");
}

TEST_F(FakeRedisTest, PauseHoldsRepliesUntilResumed) {
  fake->pause(true);
  RawSocket raw = RawSocket::tcp(fake->port());
  raw.send(kPing);
  ASSERT_TRUE(eventually([&] { return fake->blocked_clients() == 1; }));
  EXPECT_EQ(raw.read_available(), "");
  fake->pause(false);
  EXPECT_EQ(raw.read_exactly(7), "+PONG\r\n");
}

TEST_F(FakeRedisTest, OomLoadingAndReadonlyAnswerLikeRedisServer) {
  fake->oom(true);
  EXPECT_EQ(cmd({"SET", "a", "1"}), "-OOM command not allowed when used memory > 'maxmemory'.");
  EXPECT_EQ(cmd({"GET", "a"}), "$(nil)");
  EXPECT_EQ(cmd({"DEL", "a"}), ":0");
  fake->oom(false);
  EXPECT_EQ(cmd({"SET", "a", "1"}), "+OK");

  fake->loading(true);
  EXPECT_EQ(cmd({"GET", "a"}), "-LOADING Redis is loading the dataset in memory");
  EXPECT_EQ(cmd({"PING"}), "-LOADING Redis is loading the dataset in memory");
  EXPECT_EQ(info_field("persistence", "loading"), "1");
  fake->loading(false);
  EXPECT_EQ(cmd({"GET", "a"}), "$1");

  fake->readonly(true);
  EXPECT_EQ(cmd({"SET", "a", "2"}), "-READONLY You can't write against a read only replica.");
  EXPECT_EQ(cmd({"DEL", "a"}), "-READONLY You can't write against a read only replica.");
  EXPECT_EQ(cmd({"GET", "a"}), "$1");
  EXPECT_EQ(info_field("replication", "role"), "slave");
  fake->readonly(false);
  EXPECT_EQ(cmd({"SET", "a", "2"}), "+OK");
}

TEST_F(FakeRedisTest, CommandErrorAnswersOneCommandWithTheGivenError) {
  fake->command_error("GET", std::string("ERR injected"));
  EXPECT_EQ(cmd({"get", "a"}), "-ERR injected");
  EXPECT_EQ(cmd({"SET", "a", "1"}), "+OK");
  fake->command_error("get", std::nullopt);
  EXPECT_EQ(cmd({"GET", "a"}), "$1");
}

TEST_F(FakeRedisTest, LatencyDelaysACommandOnTheHarnessClock) {
  fake->latency("get", 100ms);
  RawSocket raw = RawSocket::tcp(fake->port());
  raw.send("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" + std::string(kPing));
  ASSERT_TRUE(eventually([&] { return clock.pending() == 1; }));
  clock.advance(99ms);
  EXPECT_EQ(fake->blocked_clients(), 1u);
  EXPECT_EQ(raw.read_available(), "");
  clock.advance(1ms);
  EXPECT_EQ(raw.read_exactly(5 + 7), "$-1\r\n+PONG\r\n");  // PING was not delayed
  fake->latency("get", std::nullopt);
  EXPECT_EQ(cmd({"GET", "k"}), "$(nil)");
}

TEST_F(FakeRedisTest, CloseAfterAnswersNCommandsThenCloses) {
  fake->close_after(2);
  RawSocket raw = RawSocket::tcp(fake->port());
  raw.send(std::string(kPing) + kPing + kPing);
  std::string got;
  EXPECT_TRUE(raw.read_to_eof(got));
  EXPECT_EQ(got, "+PONG\r\n+PONG\r\n");
  fake->close_after(std::nullopt);
  EXPECT_EQ(connect().pipeline({{"PING"}, {"PING"}, {"PING"}}),
            (std::vector<std::string>{"+PONG", "+PONG", "+PONG"}));
}

TEST_F(FakeRedisTest, FaultsAreJournaled) {
  Journal journal(clock);
  RedisFakeOptions o;
  o.journal = &journal;
  o.name = "cache";
  start(o);
  fake->oom(true);
  fake->heal_all();
  const auto events = journal.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, "fault.inject");
  EXPECT_EQ(events[0].subject, "redis:cache");
  EXPECT_EQ(events[0].fields["fault"], "oom");
  EXPECT_EQ(events[1].kind, "fault.heal");
}

class ControlEndpointTest : public FakeRedisTest {
 protected:
  void SetUp() override {
    FakeRedisTest::SetUp();
    control = std::make_unique<RedisControlEndpoint>(loop, *fake);
    control->start();
  }
  void TearDown() override { control.reset(); }
  std::pair<int, nlohmann::json> call(const std::string& method, const std::string& target,
                                      const std::string& body = "") {
    const auto [status, text] = http_request(control->port(), method, target, body);
    return {status, nlohmann::json::parse(text, nullptr, false)};
  }
  std::unique_ptr<RedisControlEndpoint> control;
};

TEST_F(ControlEndpointTest, InjectsListsAndHealsEveryFault) {
  EXPECT_EQ(call("GET", "/health").second["status"], "ok");
  EXPECT_EQ(call("POST", "/faults/oom").first, 200);
  EXPECT_EQ(cmd({"SET", "a", "1"}), "-OOM command not allowed when used memory > 'maxmemory'.");
  EXPECT_EQ(call("DELETE", "/faults/oom").first, 200);
  EXPECT_EQ(cmd({"SET", "a", "1"}), "+OK");

  EXPECT_EQ(call("POST", "/faults/loading").first, 200);
  EXPECT_EQ(cmd({"GET", "a"}), "-LOADING Redis is loading the dataset in memory");
  EXPECT_EQ(call("POST", "/faults/readonly").first, 200);
  EXPECT_EQ(call("POST", "/faults/command_error", R"({"command":"ping","error":"ERR nope"})").first,
            200);
  EXPECT_EQ(call("POST", "/faults/latency", R"({"command":"get","ms":25})").first, 200);
  EXPECT_EQ(call("POST", "/faults/close_after", R"({"commands":10})").first, 200);
  const auto listed = call("GET", "/faults").second;
  EXPECT_TRUE(listed.contains("loading"));
  EXPECT_TRUE(listed.contains("readonly"));
  EXPECT_EQ(listed["command_error"]["ping"], "ERR nope");
  EXPECT_EQ(listed["latency"]["get"], 25.0);
  EXPECT_EQ(listed["close_after"]["commands"], 10);
  EXPECT_EQ(call("DELETE", "/faults/latency", R"({"command":"get"})").first, 200);
  EXPECT_EQ(call("POST", "/reset").second["faults"], nlohmann::json::object());
  EXPECT_EQ(cmd({"GET", "a"}), "$1");

  EXPECT_EQ(call("POST", "/faults/pause").first, 200);
  RawSocket raw = RawSocket::tcp(fake->port());
  raw.send(kPing);
  ASSERT_TRUE(eventually([&] { return fake->blocked_clients() == 1; }));
  EXPECT_EQ(call("DELETE", "/faults/pause").first, 200);
  EXPECT_EQ(raw.read_exactly(7), "+PONG\r\n");

  const auto port = fake->port();
  EXPECT_EQ(call("POST", "/faults/refuse_connections").first, 200);
  EXPECT_FALSE(RedisTestClient::try_tcp("127.0.0.1", port).has_value());
  EXPECT_EQ(call("DELETE", "/faults/refuse_connections").first, 200);
  EXPECT_TRUE(RedisTestClient::try_tcp("127.0.0.1", port).has_value());

  EXPECT_EQ(call("POST", "/faults/close_clients").first, 200);
  EXPECT_EQ(cmd({"PING"}).substr(0, 1), "!");
}

TEST_F(ControlEndpointTest, BadRequestsGetClearErrors) {
  auto [status, body] = call("POST", "/faults/pasue");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error"], "unknown fault 'pasue' (did you mean 'pause'?)");
  EXPECT_EQ(call("POST", "/faults/latency", "{not json").first, 400);
  EXPECT_EQ(call("POST", "/faults/latency", R"({"ms":-1})").first, 400);
  EXPECT_EQ(call("POST", "/faults/command_error", R"({"error":"ERR x"})").first, 400);
  EXPECT_EQ(call("POST", "/faults/close_after", R"({"commands":"x"})").first, 400);
  EXPECT_EQ(call("GET", "/nope").first, 404);
  EXPECT_EQ(call("PUT", "/faults/oom").first, 405);
  EXPECT_EQ(call("GET", "/faults").second, nlohmann::json::object());
  // Garbage instead of HTTP closes that connection only.
  RawSocket raw = RawSocket::tcp(control->port());
  raw.send("\x01\x02 garbage\r\n\r\n");
  std::string got;
  EXPECT_TRUE(raw.read_to_eof(got));
  EXPECT_EQ(call("GET", "/health").first, 200);
}

}  // namespace
}  // namespace faultline::fakes::redis::testing
