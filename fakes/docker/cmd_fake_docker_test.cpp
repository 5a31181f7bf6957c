// `faultline fake docker` run as a person runs it: prints its DOCKER_HOST and control endpoint,
// serves the API and the faults, and on SIGTERM/SIGINT stops cleanly and removes its socket.
#include <signal.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "harness/clients/docker/docker_client.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

#ifndef FAULTLINE_BIN
#error "FAULTLINE_BIN must name the faultline binary"
#endif

namespace faultline::fakes::docker {
namespace {

namespace fs = std::filesystem;
using faultline::clients::DockerClient;
using faultline::clients::DockerHost;
using faultline::testing::read_file;
using faultline::testing::TempDir;
using faultline::testing::wait_until;

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("fake_docker_cmd_test");

std::string line_after(const std::string& text, const std::string& prefix) {
  const auto at = text.find(prefix);
  if (at == std::string::npos) return "";
  const auto start = at + prefix.size();
  return text.substr(start, text.find('\n', start) - start);
}

class FakeDockerCommandTest : public ::testing::TestWithParam<int> {};

TEST_P(FakeDockerCommandTest, ServesFaultsAndStopsCleanly) {
  const int stop_signal = GetParam();
  TempDir dir;
  const fs::path socket = dir.path() / "d.sock";
  const fs::path out = dir.path() / "out";
  Supervisor sup(faultline::testing::test_run_directory());
  Child child =
      sup.spawn({{FAULTLINE_BIN, "fake", "docker", "--socket", socket.string(), "--cpus", "2"},
                 {},
                 dir.path(),
                 out,
                 dir.path() / "err"});
  ASSERT_TRUE(wait_until([&] {
    return read_file(out).find("control endpoint") != std::string::npos;
  })) << read_file(dir.path() / "err");
  const std::string text = read_file(out);
  EXPECT_EQ(line_after(text, "export DOCKER_HOST="), "unix://" + socket.string());
  const std::string control = line_after(text, "control endpoint http://");
  ASSERT_FALSE(control.empty()) << text;

  DockerClient docker(DockerHost::parse("unix://" + socket.string()));
  EXPECT_TRUE(docker.ping());
  EXPECT_EQ(docker.info()["NCPU"], 2);
  clients::ContainerSpec spec;
  spec.name = "svc";
  spec.image = "app";
  docker.create_container(spec);
  docker.start("svc");

  DockerClient ctl(DockerHost::parse("tcp://" + control.substr(0, control.find('/'))));
  auto r =
      ctl.request("POST", "/faults", R"({"fault":"die","container":"svc","exit_code":7})", false);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(docker.inspect("svc").exit_code, 7);
  r = ctl.request("POST", "/faults", R"({"fault":"die","container":"nope"})", false);
  EXPECT_EQ(r.status, 404) << r.body;
  r = ctl.request("POST", "/faults", R"({"fault":"melt"})", false);
  EXPECT_EQ(r.status, 400) << r.body;
  r = ctl.request("POST", "/faults", "{", false);
  EXPECT_EQ(r.status, 400) << r.body;
  r = ctl.request("GET", "/state", "", false);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"svc\""), std::string::npos);

  ASSERT_TRUE(child.signal(stop_signal));
  ASSERT_TRUE(wait_for_exit(child.pid(), std::chrono::seconds(20)));
  const ExitStatus status = child.wait();
  EXPECT_TRUE(status.success()) << status.str();
  EXPECT_NE(read_file(out).find(stop_signal == SIGINT ? "stopped (SIGINT)" : "stopped (SIGTERM)"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(socket));
}

INSTANTIATE_TEST_SUITE_P(Signals, FakeDockerCommandTest, ::testing::Values(SIGTERM, SIGINT));

TEST(FakeDockerCommandUsage, RefusesBadOptions) {
  TempDir dir;
  Supervisor sup(faultline::testing::test_run_directory());
  const fs::path err = dir.path() / "err";
  Child child = sup.spawn({{FAULTLINE_BIN, "fake", "docker", "--memory", "lots"},
                           {},
                           dir.path(),
                           dir.path() / "out",
                           err});
  ASSERT_TRUE(wait_for_exit(child.pid(), std::chrono::seconds(20)));
  EXPECT_EQ(child.wait().code, 2);
  EXPECT_NE(read_file(err).find("--memory"), std::string::npos) << read_file(err);
}

}  // namespace
}  // namespace faultline::fakes::docker
