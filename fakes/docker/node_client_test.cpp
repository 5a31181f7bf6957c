// Compatibility with an existing Docker client, unchanged: dockerode from npm drives the fake
// over its unix socket (node_client_test/test.js). npm installs dockerode into the build
// directory, never into the source tree. Skips, with the reason, when node or npm is missing or
// the install fails (no registry, for instance).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "fakes/docker/fake_docker.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

#ifndef DOCKER_NODE_SOURCE
#error "DOCKER_NODE_SOURCE must name fakes/docker/node_client_test"
#endif
#ifndef DOCKER_NODE_INSTALL
#error "DOCKER_NODE_INSTALL must name a directory in the build tree"
#endif

namespace faultline::fakes::docker {
namespace {

namespace fs = std::filesystem;
using faultline::testing::read_file;

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("fake_docker_node_client_test");

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  const std::string dirs = path;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    if (::access((dirs.substr(start, end - start) + "/" + program).c_str(), X_OK) == 0) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

ExitStatus run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const fs::path& dir, const fs::path& out, const fs::path& err,
               std::chrono::seconds bound) {
  Supervisor sup(faultline::testing::test_run_directory());
  Child child = sup.spawn({argv, env, dir, out, err});
  if (!wait_for_exit(child.pid(), bound)) child.terminate();
  return child.wait();
}

TEST(DockerodeClient, DrivesTheFakeUnchanged) {
  if (!on_path("node") || !on_path("npm")) GTEST_SKIP() << "node or npm is not installed";
  const fs::path install = DOCKER_NODE_INSTALL;
  fs::create_directories(install);
  fs::copy_file(fs::path(DOCKER_NODE_SOURCE) / "package.json", install / "package.json",
                fs::copy_options::overwrite_existing);
  const auto npm =
      run({"npm", "install", "--no-audit", "--no-fund", "--loglevel=error"}, {}, install,
          install / "npm.out", install / "npm.err", std::chrono::seconds(180));
  if (!npm.success()) {
    GTEST_SKIP() << "npm could not install dockerode (" << npm.str()
                 << "): " << read_file(install / "npm.err").substr(0, 400);
  }
  faultline::testing::TempDir dir;
  RealClock clock;
  EventLoop loop;
  FakeDockerOptions options;
  options.socket_path = (dir.path() / "docker.sock").string();
  FakeDockerEngine engine(loop, clock, options);
  const fs::path out = install / "test.out";
  const fs::path err = install / "test.err";
  const auto status = run(
      {"node", (fs::path(DOCKER_NODE_SOURCE) / "test.js").string()},
      {{"DOCKER_SOCKET", options.socket_path}, {"NODE_PATH", (install / "node_modules").string()}},
      install, out, err, std::chrono::seconds(120));
  EXPECT_TRUE(status.success()) << status.str() << "\n" << read_file(out) << read_file(err);
  EXPECT_NE(read_file(out).find("all ok"), std::string::npos) << read_file(out);
}

}  // namespace
}  // namespace faultline::fakes::docker
