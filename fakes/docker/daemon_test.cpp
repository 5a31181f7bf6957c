// The fake daemon through its router, without sockets, on a ManualClock: version negotiation,
// the container state machine with dockerd's codes and messages, restart policies with dockerd's
// backoff, health probes, capacity, networks and events.
#include <gtest/gtest.h>

#include "fakes/docker/daemon.h"
#include "fakes/docker/restart_policy.h"
#include "fakes/docker/router.h"
#include "harness/core/clock.h"

namespace faultline::fakes::docker {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() : daemon_(std::make_shared<DockerDaemon>(clock_, options())), router_(daemon_) {}

  static FakeDockerOptions options() {
    FakeDockerOptions o;
    o.memory_bytes = 1LL << 30;
    o.cpus = 2;
    return o;
  }

  HttpReply call(const std::string& method, const std::string& target,
                 const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    if (!body.empty()) r.headers["content-type"] = "application/json";
    HttpReply reply = router_.handle(r);
    if (reply.defer) {  // answered at once or later; tests that need "later" use defer directly
      std::optional<HttpReply> got;
      reply.defer([&](HttpReply done) { got = std::move(done); });
      EXPECT_TRUE(got.has_value()) << method << " " << target << " did not complete";
      if (got) return *got;
    }
    return reply;
  }

  static std::string message(const HttpReply& r) {
    return json::parse(r.body).value("message", std::string());
  }

  std::string create(const std::string& name, json body = json::object()) {
    if (!body.contains("Image")) body["Image"] = "redis:7";
    const auto r = call("POST", "/v1.47/containers/create?name=" + name, body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["Id"].get<std::string>();
  }

  json inspect(const std::string& ref) {
    const auto r = call("GET", "/v1.47/containers/" + ref + "/json");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  ManualClock clock_;
  std::shared_ptr<DockerDaemon> daemon_;
  Router router_;
};

TEST_F(DaemonTest, PingAndVersionNegotiationAsDockerd) {
  auto ping = call("GET", "/_ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "OK");
  bool has_version = false;
  for (const auto& [k, v] : ping.headers) has_version |= k == "Api-Version" && v == "1.47";
  EXPECT_TRUE(has_version);
  EXPECT_EQ(call("HEAD", "/_ping").body, "");
  EXPECT_EQ(call("GET", "/v1.24/version").status, 200);
  auto too_new = call("GET", "/v1.99/version");
  EXPECT_EQ(too_new.status, 400);
  EXPECT_EQ(message(too_new),
            "client version 1.99 is too new. Maximum supported API version is 1.47");
  auto too_old = call("GET", "/v1.12/info");
  EXPECT_EQ(too_old.status, 400);
  EXPECT_EQ(message(too_old),
            "client version 1.12 is too old. Minimum supported API version is 1.24, please "
            "upgrade your client to a newer version");
  EXPECT_EQ(json::parse(call("GET", "/version").body)["ApiVersion"], "1.47");
  EXPECT_EQ(call("GET", "/v1.47/nothing/here").status, 404);
}

TEST_F(DaemonTest, ContainerLifecycleAndIllegalTransitions) {
  const std::string id = create("web", {{"Labels", {{"tier", "front"}}}, {"Env", {"A=1"}}});
  EXPECT_EQ(inspect("web")["State"]["Status"], "created");
  EXPECT_EQ(call("POST", "/v1.47/containers/web/start").status, 204);
  auto state = inspect(id.substr(0, 12))["State"];
  EXPECT_EQ(state["Status"], "running");
  EXPECT_TRUE(state["Running"].get<bool>());
  EXPECT_GT(state["Pid"].get<int>(), 0);
  EXPECT_EQ(call("POST", "/v1.47/containers/web/start").status, 304);
  auto unpause = call("POST", "/v1.47/containers/web/unpause");
  EXPECT_EQ(unpause.status, 409);
  EXPECT_EQ(message(unpause), "Container " + id + " is not paused");
  EXPECT_EQ(call("POST", "/v1.47/containers/web/pause").status, 204);
  EXPECT_EQ(inspect("web")["State"]["Status"], "paused");
  EXPECT_EQ(call("POST", "/v1.47/containers/web/pause").status, 409);
  EXPECT_EQ(call("POST", "/v1.47/containers/web/start").status, 409);
  EXPECT_EQ(call("POST", "/v1.47/containers/web/unpause").status, 204);
  auto rm = call("DELETE", "/v1.47/containers/web");
  EXPECT_EQ(rm.status, 409);
  EXPECT_EQ(message(rm),
            "cannot remove container \"/web\": container is running: stop the "
            "container before removing or force remove");
  EXPECT_EQ(call("POST", "/v1.47/containers/web/stop?t=5").status, 204);
  state = inspect("web")["State"];
  EXPECT_EQ(state["Status"], "exited");
  EXPECT_EQ(state["ExitCode"], 0);
  EXPECT_EQ(state["Pid"], 0);
  EXPECT_EQ(call("POST", "/v1.47/containers/web/stop").status, 304);
  auto kill = call("POST", "/v1.47/containers/web/kill");
  EXPECT_EQ(kill.status, 409);
  EXPECT_EQ(message(kill), "Cannot kill container: web: Container " + id + " is not running");
  auto conflict = call("POST", "/v1.47/containers/create?name=web", R"({"Image":"x"})");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_NE(message(conflict).find("is already in use by container"), std::string::npos);
  EXPECT_EQ(call("DELETE", "/v1.47/containers/web").status, 204);
  auto gone = call("GET", "/v1.47/containers/web/json");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(message(gone), "No such container: web");
}

TEST_F(DaemonTest, MalformedRequestsAreAnsweredNotThrown) {
  EXPECT_EQ(call("POST", "/v1.47/containers/create", "{not json").status, 400);
  EXPECT_EQ(call("POST", "/v1.47/containers/create", "[1,2]").status, 400);
  EXPECT_EQ(call("POST", "/v1.47/containers/create").status, 400);
  EXPECT_EQ(call("POST", "/v1.47/containers/create?name=%20bad", R"({"Image":"x"})").status, 400);
  EXPECT_EQ(
      call("POST", "/v1.47/containers/create", R"({"Image":"x","HostConfig":{"Memory":"lots"}})")
          .status,
      400);
  EXPECT_EQ(call("POST", "/v1.47/containers/create",
                 R"({"Image":"x","HostConfig":{"RestartPolicy":{"Name":"sometimes"}}})")
                .status,
            400);
  EXPECT_EQ(call("GET", "/v1.47/containers/json?filters=%7Bbad").status, 400);
  EXPECT_EQ(call("GET", "/v1.47/containers/json?filters=%7B%22status%22%3A%5B%22x%22%5D%7D").status,
            400);
  EXPECT_EQ(call("GET", "/v1.47/events?since=yesterday").status, 400);
  create("kk");
  call("POST", "/v1.47/containers/kk/start");
  EXPECT_EQ(call("POST", "/v1.47/containers/kk/kill?signal=SIGNOPE").status, 400);
  EXPECT_EQ(call("POST", "/v1.47/containers/kk/stop?t=soon").status, 400);
  EXPECT_EQ(call("POST", "/v1.47/containers/kk/wait?condition=never").status, 400);
}

TEST_F(DaemonTest, KillWithSignalAndWait) {
  create("ww");
  call("POST", "/v1.47/containers/ww/start");
  EXPECT_EQ(call("POST", "/v1.47/containers/ww/kill?signal=SIGWINCH").status, 204);
  EXPECT_EQ(inspect("ww")["State"]["Status"], "running");  // WINCH does not end a process
  HttpRequest r;
  r.method = "POST";
  r.target = "/v1.47/containers/ww/wait";
  HttpReply waiting = router_.handle(r);
  ASSERT_TRUE(waiting.stream);  // headers at once, the body when the container stops
  std::optional<std::string> got;
  bool ended = false;
  waiting.stream([&](std::string chunk) { got = chunk; }, [&] { ended = true; });
  EXPECT_FALSE(got);
  EXPECT_EQ(call("POST", "/v1.47/containers/ww/kill?signal=TERM").status, 204);
  ASSERT_TRUE(got);
  EXPECT_TRUE(ended);
  EXPECT_EQ(json::parse(*got)["StatusCode"], 143);
}

TEST_F(DaemonTest, StopWaitsItsTimeoutOnTheClockWhenSigtermIsIgnored) {
  create("slow");
  call("POST", "/v1.47/containers/slow/start");
  daemon_->set_ignores_sigterm("slow", true);
  HttpRequest r;
  r.method = "POST";
  r.target = "/v1.47/containers/slow/stop?t=3";
  HttpReply deferred = router_.handle(r);
  std::optional<HttpReply> got;
  deferred.defer([&](HttpReply done) { got = std::move(done); });
  EXPECT_FALSE(got);
  clock_.advance(2999ms);
  EXPECT_FALSE(got);
  clock_.advance(1ms);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 204);
  EXPECT_EQ(inspect("slow")["State"]["ExitCode"], 137);
}

TEST(RestartBackoffTest, DoublesFrom100msCapsAtOneMinuteAndResetsAfterTenSeconds) {
  RestartBackoff b;
  const auto always = RestartPolicy::parse("always");
  std::chrono::nanoseconds expected = 100ms;
  for (int i = 0; i < 12; ++i) {
    const auto d = b.on_exit(always, 1, false, 1s, i);
    EXPECT_TRUE(d.restart);
    EXPECT_EQ(d.delay, std::min<std::chrono::nanoseconds>(expected, 1min)) << i;
    expected *= 2;
  }
  EXPECT_EQ(b.on_exit(always, 1, false, 10s, 12).delay, 100ms);
  const auto three = RestartPolicy::parse("on-failure:3");
  RestartBackoff f;
  EXPECT_FALSE(f.on_exit(three, 0, false, 1s, 0).restart);
  EXPECT_TRUE(f.on_exit(three, 2, false, 1s, 2).restart);
  EXPECT_FALSE(f.on_exit(three, 2, false, 1s, 3).restart);
  EXPECT_FALSE(b.on_exit(RestartPolicy::parse("unless-stopped"), 1, true, 1s, 0).restart);
  EXPECT_THROW(RestartPolicy::parse("always:3"), ApiError);
  EXPECT_THROW(RestartPolicy::parse("on-failure:x"), ApiError);
}

TEST_F(DaemonTest, CrashLoopRestartsWithDockerdBackoff) {
  create("loop",
         {{"HostConfig", {{"RestartPolicy", {{"Name", "on-failure"}, {"MaximumRetryCount", 3}}}}}});
  call("POST", "/v1.47/containers/loop/start");
  const std::chrono::milliseconds delays[] = {100ms, 200ms, 400ms};
  for (int i = 0; i < 3; ++i) {
    daemon_->die("loop", 1);
    auto state = inspect("loop")["State"];
    EXPECT_EQ(state["Status"], "restarting") << i;
    EXPECT_TRUE(state["Restarting"].get<bool>());
    clock_.advance(delays[i] - 1ms);
    EXPECT_EQ(inspect("loop")["State"]["Status"], "restarting") << i;
    clock_.advance(1ms);
    EXPECT_EQ(inspect("loop")["State"]["Status"], "running") << i;
    EXPECT_EQ(inspect("loop")["RestartCount"], i + 1);
  }
  daemon_->die("loop", 1);  // the fourth failure is past MaximumRetryCount
  clock_.advance(10min);
  EXPECT_EQ(inspect("loop")["State"]["Status"], "exited");
  EXPECT_EQ(inspect("loop")["State"]["ExitCode"], 1);
}

TEST_F(DaemonTest, OomKillAndManualStopDoNotFightThePolicy) {
  create("mem", {{"HostConfig", {{"RestartPolicy", {{"Name", "always"}}}}}});
  call("POST", "/v1.47/containers/mem/start");
  daemon_->oom_kill("mem");
  auto state = inspect("mem")["State"];
  EXPECT_TRUE(state["OOMKilled"].get<bool>());
  EXPECT_EQ(state["ExitCode"], 137);
  clock_.advance(100ms);
  EXPECT_EQ(inspect("mem")["State"]["Status"], "running");
  call("POST", "/v1.47/containers/mem/stop");
  clock_.advance(10min);
  EXPECT_EQ(inspect("mem")["State"]["Status"], "exited");
  const auto events = daemon_->event_history(0, daemon_->wall_now_ns(), {{"type", {"container"}}});
  std::vector<std::string> actions;
  for (const auto& e : events) actions.push_back(e["Action"]);
  const std::vector<std::string> expected = {"create", "start", "oom", "die",
                                             "start",  "kill",  "die", "stop"};
  EXPECT_EQ(actions, expected);
}

TEST_F(DaemonTest, HealthChecksAreProbesOnTheClock) {
  const json hc = {{"Test", {"CMD-SHELL", "true"}}, {"Interval", 1000000000}, {"Retries", 2}};
  create("hh", {{"Healthcheck", hc}});
  call("POST", "/v1.47/containers/hh/start");
  EXPECT_EQ(inspect("hh")["State"]["Health"]["Status"], "starting");
  clock_.advance(1s);
  EXPECT_EQ(inspect("hh")["State"]["Health"]["Status"], "healthy");
  daemon_->set_unhealthy("hh", true);
  clock_.advance(1s);
  auto health = inspect("hh")["State"]["Health"];
  EXPECT_EQ(health["Status"], "healthy");
  EXPECT_EQ(health["FailingStreak"], 1);
  clock_.advance(1s);
  health = inspect("hh")["State"]["Health"];
  EXPECT_EQ(health["Status"], "unhealthy");
  EXPECT_EQ(health["Log"].size(), 3u);
  daemon_->set_unhealthy("hh", false);
  daemon_->set_flapping("hh", 2);
  std::vector<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    clock_.advance(1s);
    seen.push_back(inspect("hh")["State"]["Health"]["Status"]);
  }
  const std::vector<std::string> expected = {"healthy", "healthy", "healthy", "unhealthy",
                                             "healthy", "healthy", "healthy", "unhealthy"};
  EXPECT_EQ(seen, expected);
  const auto filtered =
      call("GET", "/v1.47/containers/json?filters=%7B%22health%22%3A%5B%22unhealthy%22%5D%7D");
  EXPECT_EQ(json::parse(filtered.body).size(), 1u);
}

TEST_F(DaemonTest, CapacityRefusesAsDockerd) {
  auto cpus = call("POST", "/v1.47/containers/create?name=big",
                   R"({"Image":"x","HostConfig":{"NanoCpus":3000000000}})");
  EXPECT_EQ(cpus.status, 400);
  EXPECT_EQ(message(cpus),
            "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
  create("aa", {{"HostConfig", {{"Memory", 700LL << 20}}}});
  create("bb", {{"HostConfig", {{"Memory", 400LL << 20}}}});
  EXPECT_EQ(call("POST", "/v1.47/containers/aa/start").status, 204);
  auto refused = call("POST", "/v1.47/containers/bb/start");
  EXPECT_EQ(refused.status, 500);
  EXPECT_NE(message(refused).find("insufficient memory"), std::string::npos);
  auto state = inspect("bb")["State"];
  EXPECT_EQ(state["Status"], "created");
  EXPECT_EQ(state["ExitCode"], 128);
  call("POST", "/v1.47/containers/aa/stop");
  EXPECT_EQ(call("POST", "/v1.47/containers/bb/start").status, 204);
}

TEST_F(DaemonTest, ListFiltersByLabelNameAndStatus) {
  create("api-1", {{"Labels", {{"app", "api"}}}});
  create("api-2", {{"Labels", {{"app", "api"}}}});
  create("db", {{"Labels", {{"app", "db"}}}});
  call("POST", "/v1.47/containers/api-1/start");
  auto names = [&](const std::string& query) {
    std::vector<std::string> out;
    for (const auto& row : json::parse(call("GET", "/v1.47/containers/json?" + query).body)) {
      out.push_back(row["Names"][0]);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(names(""), std::vector<std::string>{"/api-1"});
  EXPECT_EQ(names("all=1").size(), 3u);
  EXPECT_EQ(names("all=1&filters=%7B%22label%22%3A%5B%22app%3Dapi%22%5D%7D"),
            (std::vector<std::string>{"/api-1", "/api-2"}));
  EXPECT_EQ(names("filters=%7B%22status%22%3A%5B%22created%22%5D%7D"),
            (std::vector<std::string>{"/api-2", "/db"}));
  EXPECT_EQ(names("all=1&filters=%7B%22name%22%3A%5B%22db%22%5D%7D"),
            std::vector<std::string>{"/db"});
}

TEST_F(DaemonTest, NetworksConnectDisconnectAndPartition) {
  auto created = call("POST", "/v1.47/networks/create", R"({"Name":"backend"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(call("POST", "/v1.47/networks/create", R"({"Name":"backend"})").status, 409);
  create("svc", {{"HostConfig", {{"NetworkMode", "backend"}}}});
  auto nets = inspect("svc")["NetworkSettings"]["Networks"];
  ASSERT_TRUE(nets.contains("backend"));
  EXPECT_EQ(nets["backend"]["IPAddress"], "172.18.0.2");
  EXPECT_EQ(call("POST", "/v1.47/networks/bridge/connect", R"({"Container":"svc"})").status, 200);
  EXPECT_EQ(call("POST", "/v1.47/networks/bridge/connect", R"({"Container":"svc"})").status, 403);
  auto net = json::parse(call("GET", "/v1.47/networks/backend").body);
  EXPECT_EQ(net["Containers"].size(), 1u);
  EXPECT_EQ(call("DELETE", "/v1.47/networks/backend").status, 403);
  EXPECT_EQ(call("DELETE", "/v1.47/networks/bridge").status, 403);
  daemon_->disconnect("backend", "svc", false);  // the partition fault
  EXPECT_FALSE(inspect("svc")["NetworkSettings"]["Networks"].contains("backend"));
  EXPECT_EQ(call("POST", "/v1.47/networks/backend/disconnect", R"({"Container":"svc"})").status,
            403);
  EXPECT_EQ(call("DELETE", "/v1.47/networks/backend").status, 204);
  EXPECT_EQ(call("GET", "/v1.47/networks/backend").status, 404);
  EXPECT_EQ(json::parse(call("GET", "/v1.47/networks").body).size(), 3u);
}

TEST_F(DaemonTest, EventsStreamLiveAndHistory) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/v1.47/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D";
  HttpReply reply = router_.handle(r);
  ASSERT_TRUE(reply.stream);
  std::vector<json> got;
  bool ended = false;
  auto cancel = reply.stream([&](std::string chunk) { got.push_back(json::parse(chunk)); },
                             [&] { ended = true; });
  create("ev");
  call("POST", "/v1.47/containers/ev/start");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["status"], "start");
  EXPECT_EQ(got[1]["Actor"]["Attributes"]["name"], "ev");
  cancel();
  call("POST", "/v1.47/containers/ev/stop");
  EXPECT_EQ(got.size(), 2u);
  EXPECT_FALSE(ended);
  r.target =
      "/v1.47/events?since=0&until=" + std::to_string(daemon_->wall_now_ns() / 1000000000 + 0);
  HttpReply finite = router_.handle(r);
  std::vector<std::string> actions;
  finite.stream([&](std::string chunk) { actions.push_back(json::parse(chunk)["Action"]); },
                [&] { ended = true; });
  EXPECT_TRUE(ended);
  EXPECT_GE(actions.size(), 5u);  // create, connect (network), start, kill, die, stop...
}

}  // namespace
}  // namespace faultline::fakes::docker
