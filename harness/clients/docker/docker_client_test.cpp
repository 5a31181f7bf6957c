// DockerClient against the Docker fake over its unix socket and TCP: version negotiation, the
// container and network calls, logs, events (finite and followed), and daemon faults surfacing
// as DockerApiError / DockerUnavailable.
#include "harness/clients/docker/docker_client.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "fakes/docker/fake_docker.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/testing/process_testing.h"

namespace faultline::clients {
namespace {

using faultline::testing::TempDir;
using faultline::testing::wait_until;
using namespace std::chrono_literals;

class DockerClientTest : public ::testing::Test {
 protected:
  DockerClientTest() {
    fakes::docker::FakeDockerOptions o;
    o.socket_path = (dir_.path() / "docker.sock").string();
    o.tcp_port = 0;
    engine_ = std::make_unique<fakes::docker::FakeDockerEngine>(loop_, clock_, o);
  }

  DockerHost unix_host() const { return DockerHost::parse(engine_->docker_host()); }

  TempDir dir_;
  RealClock clock_;
  EventLoop loop_;
  std::unique_ptr<fakes::docker::FakeDockerEngine> engine_;
};

TEST(DockerHostTest, ParsesDockerHostForms) {
  EXPECT_EQ(DockerHost::parse("unix:///var/run/docker.sock").unix_path, "/var/run/docker.sock");
  const auto tcp = DockerHost::parse("tcp://127.0.0.1:2375");
  EXPECT_EQ(tcp.host, "127.0.0.1");
  EXPECT_EQ(tcp.port, 2375);
  EXPECT_EQ(tcp.str(), "tcp://127.0.0.1:2375");
  EXPECT_THROW(DockerHost::parse("ssh://box"), UsageError);
  EXPECT_THROW(DockerHost::parse("tcp://127.0.0.1"), UsageError);
  EXPECT_THROW(DockerHost::parse("unix://relative"), UsageError);
}

TEST_F(DockerClientTest, NegotiatesTheApiVersionDownToTheDaemons) {
  DockerClient newer(unix_host(), "1.50");
  EXPECT_EQ(newer.api_version(), "1.47");
  EXPECT_TRUE(newer.ping());
  DockerClient older(unix_host(), "1.41");
  EXPECT_EQ(older.api_version(), "1.41");
  EXPECT_EQ(older.version()["ApiVersion"], "1.47");
  EXPECT_EQ(older.info()["OSType"], "linux");
  const auto raw = older.request("GET", "/v1.99/version", "", false);
  EXPECT_EQ(raw.status, 400);
}

TEST_F(DockerClientTest, ContainerLifecycleOverTheSocket) {
  DockerClient client(unix_host());
  ContainerSpec spec;
  spec.name = "cache";
  spec.image = "redis:7";
  spec.cmd = {"redis-server", "--appendonly", "yes"};
  spec.env = {{"MODE", "test"}};
  spec.labels = {{"faultline.service", "cache"}};
  spec.healthcheck = HealthcheckSpec{{"CMD", "redis-cli", "ping"}, 1s, 1s, 0s, 3};
  spec.restart_policy = "on-failure:2";
  spec.memory_bytes = 256LL << 20;
  const std::string id = client.create_container(spec);
  ASSERT_EQ(id.size(), 64u);
  client.start("cache");
  client.start("cache");  // 304 is not an error
  auto info = client.inspect("cache");
  EXPECT_EQ(info.status, "running");
  EXPECT_TRUE(info.running);
  EXPECT_EQ(info.image, "redis:7");
  EXPECT_EQ(info.labels["faultline.service"], "cache");
  EXPECT_EQ(info.health, "starting");
  EXPECT_EQ(info.raw["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 2);
  EXPECT_TRUE(wait_until([&] { return client.inspect(id).health == "healthy"; }));
  try {
    client.unpause("cache");
    FAIL() << "unpause of a running container succeeded";
  } catch (const DockerApiError& e) {
    EXPECT_EQ(e.status(), 409);
    EXPECT_EQ(e.daemon_message(), "Container " + id + " is not paused");
  }
  const auto rows = client.list_containers(false, {{"label", {"faultline.service=cache"}}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].names[0], "/cache");
  engine_->append_log("cache", "Ready to accept connections\n");
  engine_->append_log("cache", "warning\n", 2);
  EXPECT_EQ(client.logs("cache"), "Ready to accept connections\nwarning\n");

  std::atomic<int> exit_code{-1};
  std::thread waiter([&] { exit_code = client.wait("cache"); });
  client.kill("cache", "SIGTERM");
  waiter.join();
  EXPECT_EQ(exit_code.load(), 143);
  EXPECT_FALSE(client.inspect("cache").running);  // killed by the API: no policy restart
  client.remove_container("cache");
  EXPECT_FALSE(client.try_inspect("cache").has_value());
  try {
    client.inspect("cache");
    FAIL();
  } catch (const DockerApiError& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.daemon_message(), "No such container: cache");
  }
}

TEST_F(DockerClientTest, CrashLoopRestartsOnTheRealClock) {
  DockerClient client(unix_host());
  ContainerSpec spec;
  spec.name = "crashy";
  spec.image = "app:1";
  spec.restart_policy = "always";
  client.create_container(spec);
  client.start("crashy");
  engine_->die("crashy", 3);
  EXPECT_TRUE(wait_until([&] {
    const auto i = client.inspect("crashy");
    return i.running && !i.restarting && i.restart_count == 1;
  }));
  engine_->oom_kill("crashy");
  EXPECT_TRUE(wait_until([&] { return client.inspect("crashy").restart_count == 2; }));
  client.stop("crashy", 1);
  const auto info = client.inspect("crashy");
  EXPECT_EQ(info.status, "exited");
  EXPECT_THROW(engine_->die("nope", 1), fakes::docker::NotFound);
}

TEST_F(DockerClientTest, NetworksAndPartition) {
  DockerClient client(unix_host());
  const std::string net = client.create_network("backend", {{"owner", "test"}});
  ContainerSpec spec;
  spec.name = "db";
  spec.image = "postgres:15";
  spec.networks = {"backend", "bridge"};
  client.create_container(spec);
  auto info = client.inspect("db");
  EXPECT_EQ(info.networks.size(), 2u);
  EXPECT_EQ(client.inspect_network("backend").containers.size(), 1u);
  engine_->disconnect("db", "backend");
  EXPECT_EQ(client.inspect("db").networks.count("backend"), 0u);
  client.connect("backend", "db");
  EXPECT_EQ(client.inspect("db").networks.count("backend"), 1u);
  try {
    client.remove_network("backend");
    FAIL();
  } catch (const DockerApiError& e) {
    EXPECT_EQ(e.status(), 403);
  }
  client.disconnect("backend", "db");
  client.remove_network(net);
  EXPECT_EQ(client.list_networks().size(), 3u);  // bridge, host, none
}

TEST_F(DockerClientTest, EventsFollowedAndQueried) {
  DockerClient client(unix_host());
  std::vector<std::string> seen;  // written by the follower only, read after join
  std::atomic<bool> done{false};
  std::thread follower([&] {
    client.follow_events(
        [&](const DockerEvent& e) {
          seen.push_back(e.action);
          return e.action != "start";
        },
        30s, {{"type", {"container"}}});
    done = true;
  });
  // The subscription lands at some point after the thread starts: start containers until the
  // follower has seen one start (each attempt is a fresh container).
  ContainerSpec spec;
  spec.image = "busybox";
  std::vector<std::string> ids;
  EXPECT_TRUE(wait_until([&] {
    if (done) return true;
    ids.push_back(client.create_container(spec));
    client.start(ids.back());
    return false;
  }));
  follower.join();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), "start");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto events = client.events(0, now + 1, {{"event", {"start"}}});
  ASSERT_EQ(events.size(), ids.size());
  EXPECT_EQ(events[0].id, ids[0]);
  EXPECT_EQ(events[0].attributes.at("image"), "busybox");
}

TEST_F(DockerClientTest, DaemonFaultsSurfaceAsErrors) {
  DockerClient client(unix_host());
  ASSERT_TRUE(client.ping());
  engine_->fail_requests(503, "daemon is overloaded");
  try {
    client.info();
    FAIL();
  } catch (const DockerApiError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_EQ(e.daemon_message(), "daemon is overloaded");
  }
  engine_->clear_failures();
  engine_->stall(true);
  DockerClient impatient(unix_host(), "1.47", 300ms);
  EXPECT_THROW(impatient.info(), DockerUnavailable);  // held until the stall is released
  engine_->stall(false);
  EXPECT_TRUE(client.ping());
  EXPECT_EQ(client.info()["ContainersRunning"], 0);
}

TEST_F(DockerClientTest, SpeaksTcpToo) {
  DockerClient client(DockerHost::parse("tcp://127.0.0.1:" + std::to_string(*engine_->tcp_port())));
  EXPECT_TRUE(client.ping());
  ContainerSpec spec;
  spec.image = "nginx";
  const auto id = client.create_container(spec);
  EXPECT_EQ(client.inspect(id).status, "created");
}

TEST(DockerClientUnavailable, NothingListening) {
  TempDir dir;
  DockerClient client(DockerHost::parse("unix://" + (dir.path() / "none.sock").string()));
  EXPECT_THROW(client.ping(), DockerUnavailable);
}

}  // namespace
}  // namespace faultline::clients
