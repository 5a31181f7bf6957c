// `faultline proxy` as a user runs it: it serves the API and the proxies of its config, stops
// cleanly on SIGTERM, and rejects a bad config or an address in use with one line and exit 2.
#include <signal.h>

#include <optional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chaos/proxy/proxy_test_support.h"
#include "harness/core/ports.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

namespace faultline::proxy {
namespace {

using namespace testing;
namespace fs = std::filesystem;

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("proxy_cmd_test");

struct CommandRun {
  ExitStatus status;
  std::string err;
};

CommandRun run_to_end(std::vector<std::string> args) {
  faultline::testing::TempDir dir;
  args.insert(args.begin(), FAULTLINE_BIN);
  Supervisor sup(faultline::testing::test_run_directory());
  Child child = sup.spawn({args, {}, {}, dir.path() / "out", dir.path() / "err"});
  if (!wait_for_exit(child.pid(), std::chrono::seconds(30))) child.terminate();
  CommandRun r{child.wait(), faultline::testing::read_file(dir.path() / "err")};
  return r;
}

const fs::path kFixtures = fs::path(FAULTLINE_SOURCE) / "fixtures" / "proxy";

TEST(ProxyCommand, ServesConfigAndApiAndStopsOnSigterm) {
  const std::uint16_t api = pick_free_port();
  faultline::testing::TempDir dir;
  Supervisor sup(faultline::testing::test_run_directory());
  Child child =
      sup.spawn({{FAULTLINE_BIN, "proxy", "--config", (kFixtures / "proxies.json").string(),
                  "--api", "127.0.0.1:" + std::to_string(api)},
                 {},
                 {},
                 dir.path() / "out",
                 dir.path() / "err"});
  ASSERT_TRUE(eventually([&] { return http(api, "GET", "/version").status == 200; }))
      << faultline::testing::read_file(dir.path() / "err");
  const auto proxies = nlohmann::json::parse(http(api, "GET", "/proxies").body);
  EXPECT_EQ(proxies.size(), 2u);
  EXPECT_EQ(proxies["redis"]["enabled"], true);
  EXPECT_EQ(proxies["postgres"]["enabled"], false);
  child.signal(SIGTERM);
  ASSERT_TRUE(wait_for_exit(child.pid(), std::chrono::seconds(20)));
  EXPECT_TRUE(child.wait().success());
  EXPECT_NE(faultline::testing::read_file(dir.path() / "out").find("API on http://127.0.0.1:"),
            std::string::npos);
}

TEST(ProxyCommand, BadConfigIsOneLineAndExit2) {
  const CommandRun malformed = run_to_end(
      {"proxy", "--config", (kFixtures / "malformed.json").string(), "--api", "127.0.0.1:0"});
  EXPECT_EQ(malformed.status.code, 2);
  EXPECT_NE(malformed.err.find("malformed.json:"), std::string::npos) << malformed.err;
  EXPECT_EQ(std::count(malformed.err.begin(), malformed.err.end(), '\n'), 1) << malformed.err;

  const CommandRun type = run_to_end(
      {"proxy", "--config", (kFixtures / "bad-type.json").string(), "--api", "127.0.0.1:0"});
  EXPECT_EQ(type.status.code, 2);
  EXPECT_NE(type.err.find("upstream must be a string"), std::string::npos) << type.err;

  const CommandRun missing = run_to_end({"proxy", "--config", "/nonexistent/p.json"});
  EXPECT_EQ(missing.status.code, 2);
}

TEST(ProxyCommand, ApiAddressInUseIsExit2) {
  EchoServer holder;  // something already listening
  const CommandRun r = run_to_end({"proxy", "--api", "127.0.0.1:" + std::to_string(holder.port())});
  EXPECT_EQ(r.status.code, 2);
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace faultline::proxy
