// The real docker CLI, unchanged, against the fake: DOCKER_HOST=unix://<socket> docker ps,
// run -d (create, and the pull it falls back to), inspect, stop, network connect/disconnect,
// events. Skips, with the reason, where the docker CLI is not installed.
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "fakes/docker/fake_docker.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

namespace faultline::fakes::docker {
namespace {

using faultline::testing::TempDir;
using nlohmann::json;

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("fake_docker_cli_test");

std::string find_docker() {
  for (const char* p : {"/usr/bin/docker", "/usr/local/bin/docker"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

struct Result {
  ExitStatus status;
  std::string out, err;
};

class DockerCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    docker_ = find_docker();
    if (docker_.empty()) GTEST_SKIP() << "the docker CLI is not installed";
    FakeDockerOptions o;
    o.socket_path = (dir_.path() / "docker.sock").string();
    // A daemon that holds only some images, so `docker run` must pull the others.
    o.images = {"redis:7"};
    engine_ = std::make_unique<FakeDockerEngine>(loop_, clock_, o);
  }

  Result docker(std::vector<std::string> args) {
    static int n = 0;
    args.insert(args.begin(), docker_);
    const auto out = dir_.path() / ("docker" + std::to_string(++n) + ".out");
    const auto err = dir_.path() / ("docker" + std::to_string(n) + ".err");
    Supervisor sup(faultline::testing::test_run_directory());
    Child child = sup.spawn({args,
                             {{"DOCKER_HOST", engine_->docker_host()},
                              {"DOCKER_CONFIG", (dir_.path() / "config").string()},
                              {"DOCKER_CLI_HINTS", "false"}},
                             dir_.path(),
                             out,
                             err});
    if (!wait_for_exit(child.pid(), std::chrono::seconds(60))) child.terminate();
    Result r;
    r.status = child.wait();
    r.out = faultline::testing::read_file(out);
    r.err = faultline::testing::read_file(err);
    return r;
  }

  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
  }

  TempDir dir_;
  RealClock clock_;
  EventLoop loop_;
  std::string docker_;
  std::unique_ptr<FakeDockerEngine> engine_;
};

TEST_F(DockerCliTest, PsRunInspectStop) {
  auto ps = docker({"ps"});
  ASSERT_TRUE(ps.status.success()) << ps.err;
  EXPECT_NE(ps.out.find("CONTAINER ID"), std::string::npos) << ps.out;

  auto run = docker({"run", "-d", "--name", "cache", "--label", "tier=data", "--restart",
                     "on-failure:3", "-m", "64m", "redis:7"});
  ASSERT_TRUE(run.status.success()) << run.err;
  const std::string id = trim(run.out);
  EXPECT_EQ(id.size(), 64u) << run.out;

  // busybox is not held: the CLI gets 404 "No such image", pulls, and creates again.
  auto pulled = docker({"run", "-d", "--name", "tools", "busybox", "sleep", "1000"});
  ASSERT_TRUE(pulled.status.success()) << pulled.err;
  EXPECT_NE(pulled.err.find("Unable to find image 'busybox:latest' locally"), std::string::npos)
      << pulled.err;

  ps = docker({"ps", "--format", "{{.Names}} {{.State}}", "--filter", "label=tier=data"});
  ASSERT_TRUE(ps.status.success()) << ps.err;
  EXPECT_EQ(trim(ps.out), "cache running");

  auto inspect = docker({"inspect", "cache"});
  ASSERT_TRUE(inspect.status.success()) << inspect.err;
  const json doc = json::parse(inspect.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["Id"], id);
  EXPECT_EQ(doc[0]["State"]["Status"], "running");
  EXPECT_EQ(doc[0]["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
  EXPECT_EQ(doc[0]["HostConfig"]["Memory"], 64 << 20);
  EXPECT_EQ(doc[0]["Config"]["Labels"]["tier"], "data");

  auto stop = docker({"stop", "cache"});
  ASSERT_TRUE(stop.status.success()) << stop.err;
  EXPECT_EQ(trim(stop.out), "cache");
  EXPECT_EQ(engine_->container("cache")->status, "exited");

  auto format = docker({"inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "cache"});
  EXPECT_EQ(trim(format.out), "exited 0") << format.err;

  auto missing = docker({"stop", "nothing-here"});
  EXPECT_FALSE(missing.status.success());
  EXPECT_NE(missing.err.find("No such container: nothing-here"), std::string::npos) << missing.err;

  auto unpause = docker({"unpause", "tools"});
  EXPECT_FALSE(unpause.status.success());
  EXPECT_NE(unpause.err.find("is not paused"), std::string::npos) << unpause.err;

  auto rm = docker({"rm", "-f", "tools", "cache"});
  EXPECT_TRUE(rm.status.success()) << rm.err;
  EXPECT_TRUE(engine_->containers().empty());
}

TEST_F(DockerCliTest, NetworkConnectDisconnect) {
  ASSERT_TRUE(docker({"network", "create", "backend"}).status.success());
  ASSERT_TRUE(docker({"create", "--name", "db", "redis:7"}).status.success());
  auto connect = docker({"network", "connect", "backend", "db"});
  ASSERT_TRUE(connect.status.success()) << connect.err;
  EXPECT_EQ(engine_->container("db")->networks.count("backend"), 1u);
  auto again = docker({"network", "connect", "backend", "db"});
  EXPECT_FALSE(again.status.success());
  auto ls = docker({"network", "ls", "--format", "{{.Name}}"});
  EXPECT_NE(ls.out.find("backend"), std::string::npos) << ls.err;
  auto disconnect = docker({"network", "disconnect", "backend", "db"});
  ASSERT_TRUE(disconnect.status.success()) << disconnect.err;
  EXPECT_EQ(engine_->container("db")->networks.count("backend"), 0u);
  auto rm = docker({"network", "rm", "backend"});
  EXPECT_TRUE(rm.status.success()) << rm.err;
}

TEST_F(DockerCliTest, EventsBetweenTwoTimes) {
  ASSERT_TRUE(docker({"run", "-d", "--name", "ev", "redis:7"}).status.success());
  ASSERT_TRUE(docker({"kill", "ev"}).status.success());
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto events = docker({"events", "--since", "0", "--until", std::to_string(now + 1), "--filter",
                        "type=container", "--format", "{{.Action}}"});
  ASSERT_TRUE(events.status.success()) << events.err;
  EXPECT_EQ(events.out, "create\nstart\nkill\ndie\n");
}

}  // namespace
}  // namespace faultline::fakes::docker
