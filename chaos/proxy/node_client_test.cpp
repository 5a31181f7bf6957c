// Compatibility with an existing Toxiproxy client, unchanged: toxiproxy-node-client from npm
// drives an in-process ProxyServer through the HTTP API (node_client_test/test.js). npm installs
// the client into the build directory, never into the source tree. Skips, with the reason, when
// node or npm is missing or the install fails (no registry, for instance).
#include <filesystem>
#include <optional>

#include <gtest/gtest.h>

#include "chaos/proxy/http_api.h"
#include "chaos/proxy/proxy_server.h"
#include "chaos/proxy/run_command.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"

#ifndef PROXY_NODE_SOURCE
#error "PROXY_NODE_SOURCE must name chaos/proxy/node_client_test"
#endif
#ifndef PROXY_NODE_INSTALL
#error "PROXY_NODE_INSTALL must name a directory in the build tree"
#endif

namespace faultline::proxy {
namespace {

using namespace testing;
namespace fs = std::filesystem;

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("proxy_node_client_test");

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string dirs = path;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    if (executable(dirs.substr(start, end - start) + "/" + program)) return true;
    start = end + 1;
  }
  return false;
}

TEST(ToxiproxyNodeClient, DrivesTheApiUnchanged) {
  if (!on_path("node") || !on_path("npm")) GTEST_SKIP() << "node or npm is not installed";
  const fs::path install = PROXY_NODE_INSTALL;
  fs::create_directories(install);
  fs::copy_file(fs::path(PROXY_NODE_SOURCE) / "package.json", install / "package.json",
                fs::copy_options::overwrite_existing);
  const auto npm = run_command(faultline::testing::test_run_directory(), install,
                               {"npm", "install", "--no-audit", "--no-fund", "--loglevel=error"},
                               std::chrono::seconds(180));
  if (!npm.status.success()) {
    GTEST_SKIP() << "npm could not install toxiproxy-node-client (" << npm.status.str()
                 << "): " << npm.err.substr(0, 400);
  }

  RealClock clock;
  EventLoop loop;
  EchoServer echo;
  ProxyServer server(loop, clock, faultline::testing::test_rng());
  HttpApi api(server, "127.0.0.1:0");
  Supervisor sup(faultline::testing::test_run_directory());
  const fs::path out = install / "test.out";
  const fs::path err = install / "test.err";
  Child node = sup.spawn({{"node", (fs::path(PROXY_NODE_SOURCE) / "test.js").string()},
                          {{"TOXIPROXY_URL", "http://" + api.address()},
                           {"ECHO_PORT", std::to_string(echo.port())},
                           {"NODE_PATH", (install / "node_modules").string()}},
                          install,
                          out,
                          err});
  if (!wait_for_exit(node.pid(), std::chrono::seconds(120))) node.terminate();
  const ExitStatus status = node.wait();
  EXPECT_TRUE(status.success()) << status.str() << "\n" << slurp(out) << slurp(err);
  EXPECT_NE(slurp(out).find("all ok"), std::string::npos) << slurp(out);
}

}  // namespace
}  // namespace faultline::proxy
