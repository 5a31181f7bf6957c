// The Docker fake's process backing with real processes (label local): busybox/alpine containers
// run as local `sh` commands through the Supervisor — the real pid, their output as logs, stop by
// SIGTERM, restart policies on real exits, CMD-SHELL health checks run for real, a kill -9 from
// outside noticed as exit 137, pause as SIGSTOP, a named volume outliving its container — and an
// image that does not map stays a state machine. Driven through the router on a RealClock.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "fakes/docker/daemon.h"
#include "fakes/docker/router.h"
#include "harness/core/clock.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("fake_docker_process_test");

namespace faultline::fakes::docker {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using faultline::testing::wait_until;

bool alive(int pid) {
  return pid > 0 && ::kill(pid, 0) == 0;
}

// /proc/<pid>/stat's state letter ('S', 'T', 'Z'...), or 0.
char proc_state(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? 0 : text[close + 2];
}

class ProcessBackingTest : public ::testing::Test {
 protected:
  ProcessBackingTest() {
    if (!map_local_image("busybox")) return;  // SetUp skips
    FakeDockerOptions o;
    ProcessBackingOptions p;
    p.run = &faultline::testing::test_run_directory();
    o.process_backing = p;
    daemon_ = std::make_shared<DockerDaemon>(clock_, o);
    router_.emplace(daemon_);
  }

  void SetUp() override {
    if (!daemon_) GTEST_SKIP() << "no sh in PATH: busybox does not map to a local program";
  }

  // A request; a deferred reply (stop, wait) is waited for (bounded).
  HttpReply call(const std::string& method, const std::string& target, const json& body = {}) {
    HttpRequest r;
    r.method = method;
    r.target = "/v1.47" + target;
    if (!body.is_null()) {
      r.body = body.dump();
      r.headers["content-type"] = "application/json";
    }
    HttpReply reply = router_->handle(r);
    if (!reply.defer) return reply;
    auto promise = std::make_shared<std::promise<HttpReply>>();
    auto future = promise->get_future();
    reply.defer([promise](HttpReply done) { promise->set_value(std::move(done)); });
    EXPECT_EQ(future.wait_for(30s), std::future_status::ready) << method << " " << target;
    return future.get();
  }

  std::string create(const std::string& name, json body) {
    const auto r = call("POST", "/containers/create?name=" + name, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body).value("Id", std::string());
  }

  json inspect(const std::string& ref) {
    return json::parse(call("GET", "/containers/" + ref + "/json").body);
  }
  json state(const std::string& ref) { return inspect(ref)["State"]; }

  std::string logs(const std::string& ref) {
    const auto body = call("GET", "/containers/" + ref + "/logs?stdout=1&stderr=1").body;
    std::string text;  // strip the 8-byte stream frame headers
    for (std::size_t at = 0; at + 8 <= body.size();) {
      const std::size_t n = (static_cast<unsigned char>(body[at + 4]) << 24) |
                            (static_cast<unsigned char>(body[at + 5]) << 16) |
                            (static_cast<unsigned char>(body[at + 6]) << 8) |
                            static_cast<unsigned char>(body[at + 7]);
      text += body.substr(at + 8, n);
      at += 8 + n;
    }
    return text;
  }

  RealClock clock_;
  std::shared_ptr<DockerDaemon> daemon_;
  std::optional<Router> router_;
};

TEST_F(ProcessBackingTest, RunsTheCommandAsARealProcessAndStopsItWithSigterm) {
  const auto id =
      create("ready", {{"Image", "busybox:1.36"}, {"Cmd", {"sh", "-c", "echo ready; sleep 1000"}}});
  ASSERT_EQ(call("POST", "/containers/" + id + "/start").status, 204);
  const int pid = state(id)["Pid"].get<int>();
  EXPECT_TRUE(alive(pid)) << "State.Pid is the real process";
  EXPECT_EQ(state(id)["Status"], "running");
  ASSERT_TRUE(wait_until([&] { return logs(id).find("ready\n") != std::string::npos; }))
      << logs(id);
  const auto stopped = call("POST", "/containers/" + id + "/stop?t=10");
  EXPECT_EQ(stopped.status, 204) << stopped.body;
  const auto s = state(id);
  EXPECT_EQ(s["Status"], "exited");
  EXPECT_EQ(s["ExitCode"], 128 + SIGTERM) << "killed by the SIGTERM the stop sent";
  EXPECT_FALSE(alive(pid));
  const auto events = daemon_->event_history(0, daemon_->wall_now_ns() + 1, {});
  std::vector<std::string> actions;
  for (const auto& e : events) actions.push_back(e.value("Action", std::string()));
  EXPECT_NE(std::find(actions.begin(), actions.end(), "stop"), actions.end());
  EXPECT_EQ(call("DELETE", "/containers/" + id).status, 204);
}

TEST_F(ProcessBackingTest, AStopThatIsIgnoredEndsWithSigkillAfterTheTimeout) {
  // SIG_IGN survives exec: the shell and its sleep both ignore SIGTERM.
  const auto id =
      create("stubborn",
             {{"Image", "busybox"}, {"Cmd", {"sh", "-c", "trap '' TERM; echo armed; sleep 1000"}}});
  ASSERT_EQ(call("POST", "/containers/" + id + "/start").status, 204);
  ASSERT_TRUE(wait_until([&] { return logs(id).find("armed") != std::string::npos; }));
  const int pid = state(id)["Pid"].get<int>();
  EXPECT_EQ(call("POST", "/containers/" + id + "/stop?t=1").status, 204);
  EXPECT_EQ(state(id)["ExitCode"], 128 + SIGKILL) << "SIGTERM ignored, SIGKILL after t";
  EXPECT_FALSE(alive(pid));
  EXPECT_EQ(call("DELETE", "/containers/" + id).status, 204);
}

TEST_F(ProcessBackingTest, OnFailureRestartsARealExitThenStaysExited) {
  const auto id = create(
      "fails",
      {{"Image", "alpine"},
       {"Cmd", {"sh", "-c", "echo attempt; exit 3"}},
       {"HostConfig", {{"RestartPolicy", {{"Name", "on-failure"}, {"MaximumRetryCount", 2}}}}}});
  ASSERT_EQ(call("POST", "/containers/" + id + "/start").status, 204);
  ASSERT_TRUE(wait_until([&] {
    const auto s = inspect(id);
    return s["RestartCount"] == 2 && s["State"]["Status"] == "exited";
  })) << inspect(id).dump();
  const auto s = inspect(id);
  EXPECT_EQ(s["State"]["ExitCode"], 3);
  EXPECT_FALSE(s["State"]["Restarting"].get<bool>()) << "on-failure:2 gives up after 2 restarts";
  std::string out = logs(id);
  std::size_t attempts = 0;
  for (auto at = out.find("attempt"); at != std::string::npos; at = out.find("attempt", at + 1))
    ++attempts;
  EXPECT_EQ(attempts, 3u) << "the first run and two restarts, one log: " << out;
  EXPECT_EQ(call("DELETE", "/containers/" + id).status, 204);
}

TEST_F(ProcessBackingTest, CmdShellHealthChecksRunForReal) {
  const json quick = {{"Interval", 50000000}, {"Timeout", 5000000000LL}, {"Retries", 2}};
  json failing = quick, passing = quick;
  failing["Test"] = {"CMD-SHELL", "echo probing; exit 1"};
  passing["Test"] = {"CMD-SHELL", "test -f marker"};  // in the container's working directory
  const auto bad =
      create("sick",
             {{"Image", "busybox"}, {"Cmd", {"sh", "-c", "sleep 1000"}}, {"Healthcheck", failing}});
  const auto good = create("well", {{"Image", "busybox"},
                                    {"Cmd", {"sh", "-c", "touch marker; sleep 1000"}},
                                    {"Healthcheck", passing}});
  ASSERT_EQ(call("POST", "/containers/" + bad + "/start").status, 204);
  ASSERT_EQ(call("POST", "/containers/" + good + "/start").status, 204);
  ASSERT_TRUE(wait_until([&] { return state(bad)["Health"]["Status"] == "unhealthy"; }))
      << state(bad).dump();
  const auto health = state(bad)["Health"];
  EXPECT_GE(health["FailingStreak"].get<int>(), 2);
  EXPECT_EQ(health["Log"].back()["ExitCode"], 1);
  EXPECT_NE(health["Log"].back()["Output"].get<std::string>().find("probing"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return state(good)["Health"]["Status"] == "healthy"; }))
      << state(good).dump();
  EXPECT_EQ(call("DELETE", "/containers/" + bad + "?force=1").status, 204);
  EXPECT_EQ(call("DELETE", "/containers/" + good + "?force=1").status, 204);
}

TEST_F(ProcessBackingTest, AKillFromOutsideIsAnExit137AndPauseFreezesTheProcess) {
  const auto id = create("victim", {{"Image", "busybox"}, {"Cmd", {"sleep", "1000"}}});
  ASSERT_EQ(call("POST", "/containers/" + id + "/start").status, 204);
  const int pid = state(id)["Pid"].get<int>();
  ASSERT_TRUE(alive(pid));
  ASSERT_EQ(call("POST", "/containers/" + id + "/pause").status, 204);
  EXPECT_TRUE(wait_until([&] { return proc_state(pid) == 'T'; })) << proc_state(pid);
  ASSERT_EQ(call("POST", "/containers/" + id + "/unpause").status, 204);
  EXPECT_TRUE(wait_until([&] { return proc_state(pid) != 'T'; }));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(wait_until([&] { return state(id)["Status"] == "exited"; }));
  EXPECT_EQ(state(id)["ExitCode"], 137);
  std::promise<json> waited;
  daemon_->wait(id, "not-running", [&](json result) { waited.set_value(std::move(result)); });
  EXPECT_EQ(waited.get_future().get()["StatusCode"], 137);
  EXPECT_EQ(call("DELETE", "/containers/" + id).status, 204);
}

TEST_F(ProcessBackingTest, ANamedVolumeOutlivesItsContainer) {
  const json host = {{"Binds", {"keep:/data"}}};
  const auto first = create("writer", {{"Image", "busybox"},
                                       {"Cmd", {"sh", "-c", "echo kept > /data/f; sleep 1000"}},
                                       {"HostConfig", host}});
  ASSERT_EQ(call("POST", "/containers/" + first + "/start").status, 204);
  const std::filesystem::path source = inspect(first)["Mounts"][0]["Source"].get<std::string>();
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(source / "f"); }));
  const int pid = state(first)["Pid"].get<int>();
  EXPECT_EQ(call("DELETE", "/containers/" + first + "?force=1").status, 204);
  EXPECT_FALSE(alive(pid)) << "remove -f kills and reaps the process";
  const auto second = create("reader", {{"Image", "busybox"},
                                        {"Cmd", {"sh", "-c", "cat /data/f; sleep 1000"}},
                                        {"HostConfig", host}});
  ASSERT_EQ(call("POST", "/containers/" + second + "/start").status, 204);
  EXPECT_TRUE(wait_until([&] { return logs(second).find("kept") != std::string::npos; }))
      << logs(second);
  EXPECT_EQ(call("DELETE", "/volumes/keep").status, 409) << "in use by the reader";
  EXPECT_EQ(call("DELETE", "/containers/" + second + "?force=1").status, 204);
  EXPECT_EQ(json::parse(call("GET", "/volumes/keep").body)["Mountpoint"], source.string());
  EXPECT_EQ(call("DELETE", "/volumes/keep").status, 204);
  EXPECT_FALSE(std::filesystem::exists(source)) << "a removed volume's data goes";
  EXPECT_EQ(call("GET", "/volumes/keep").status, 404);
}

TEST_F(ProcessBackingTest, AnImageThatDoesNotMapStaysAStateMachine) {
  EXPECT_FALSE(map_local_image("trading/app:latest").has_value());
  const auto id = create("app", {{"Image", "trading/app:latest"}});
  ASSERT_EQ(call("POST", "/containers/" + id + "/start").status, 204);
  EXPECT_TRUE(inspect(id)["Mounts"].empty());
  // The state machine exits at once on SIGTERM; no process is waited for.
  ASSERT_EQ(call("POST", "/containers/" + id + "/kill?signal=SIGTERM").status, 204);
  EXPECT_EQ(state(id)["ExitCode"], 143);
  EXPECT_EQ(call("DELETE", "/containers/" + id).status, 204);
}

TEST(LocalImages, CommandLinesFollowDockersRules) {
  LocalImage prom;
  prom.image = "prom/prometheus:v2.48.0";
  prom.entrypoint = {"/bin/sh"};  // stands in for the program: exists everywhere
  prom.cmd = {"--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"};
  prom.container_port = 9090;
  prom.listen_flag = "--web.listen-address";
  const std::vector<PathMapping> mounts = {{"/prometheus", "/run/x/volumes/data"}};
  // No Cmd: the image's; the data dir goes to its mount; the listen flag is ours.
  EXPECT_EQ(local_command(prom, {}, {}, mounts, 4000),
            (std::vector<std::string>{"/bin/sh", "--config.file=/etc/prometheus/prometheus.yml",
                                      "--storage.tsdb.path=/run/x/volumes/data",
                                      "--web.listen-address=127.0.0.1:4000"}));
  // A Cmd replaces the image's Cmd; a listen flag in it is replaced (both forms).
  EXPECT_EQ(local_command(prom, {}, {"--web.listen-address", ":9090", "--x=/prometheus/wal"},
                          mounts, 4000),
            (std::vector<std::string>{"/bin/sh", "--x=/run/x/volumes/data/wal",
                                      "--web.listen-address=127.0.0.1:4000"}));
  LocalImage shell;
  shell.image = "busybox";
  shell.cmd = {"sh"};
  // One string with a space runs through sh -c; an Entrypoint drops the image's Cmd.
  const auto script = local_command(shell, {}, {"echo hi > /data/x"}, {{"/data", "/v"}}, 0);
  ASSERT_EQ(script.size(), 3u);
  EXPECT_EQ(script[1], "-c");
  EXPECT_EQ(script[2], "echo hi > /v/x");
  EXPECT_EQ(local_command(shell, {"echo"}, {}, {}, 0).size(), 1u);
  EXPECT_THROW(local_command(shell, {"no-such-program-here"}, {}, {}, 0), Error);
  // Health checks: CMD-SHELL through sh -c, the container port is the published one.
  const auto check = local_health_command(
      prom, {"CMD-SHELL", "wget -qO- http://localhost:9090/-/ready"}, {}, 4000);
  EXPECT_EQ(check.back(), "wget -qO- http://127.0.0.1:4000/-/ready");
  EXPECT_TRUE(local_health_command(prom, {"NONE"}, {}, 4000).empty());
}

}  // namespace
}  // namespace faultline::fakes::docker
