// `faultline up` / `status` / `down` as a user runs them: separate processes, the exports on
// stdout, the state file read by another process, a clean stop on SIGTERM with exit 0 and nothing
// left in the runs root; an exported stack file attached to by a second `up --backend external`.
#include <gtest/gtest.h>

#include <regex>

#include <nlohmann/json.hpp>

#include "harness/backends/test_clients.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("up_command_test");

namespace faultline {
namespace {

using namespace std::chrono_literals;
using faultline::testing::read_file;
using faultline::testing::test_run_directory;
using faultline::testing::wait_until;

class UpCommand : public ::testing::Test {
 protected:
  // Runs the faultline binary with TMPDIR pointing at our own runs root.
  Child spawn(std::vector<std::string> args, const std::string& out) {
    args.insert(args.begin(), FAULTLINE_BIN);
    ProcessSpec spec;
    spec.argv = args;
    spec.env = {{"TMPDIR", tmp_.path().string()}, {"FAULTLINE_SOURCE_DIR", FAULTLINE_SOURCE}};
    spec.stdout_path = tmp_.path() / out;
    spec.stderr_path = tmp_.path() / (out + ".err");
    return Supervisor(test_run_directory()).spawn(spec);
  }
  // Runs one to completion; its stdout.
  std::pair<ExitStatus, std::string> run(std::vector<std::string> args) {
    const std::string out = "cmd" + std::to_string(++n_);
    Child c = spawn(std::move(args), out);
    EXPECT_TRUE(wait_for_exit(c.pid(), 60s));
    const ExitStatus st = c.wait();
    return {st, read_file(tmp_.path() / out) + read_file(tmp_.path() / (out + ".err"))};
  }
  std::string out(const std::string& name) { return read_file(tmp_.path() / name); }
  bool runs_root_empty() {
    const auto root = tmp_.path() / "faultline";
    return !std::filesystem::exists(root) || std::filesystem::is_empty(root);
  }

  faultline::testing::TempDir tmp_;
  int n_ = 0;
};

int exported_port(const std::string& text, const std::string& name) {
  std::smatch m;
  const std::regex re("export " + name + "='[a-z]+://[^:]+:([0-9]+)");
  if (!std::regex_search(text, m, re)) return 0;
  return std::stoi(m[1]);
}

TEST_F(UpCommand, UpStatusDownOnTheFakeBackend) {
  const auto exported = (tmp_.path() / "staging.yaml").string();
  Child up = spawn({"up", "--backend", "fake", "--seed", "7", "--export-stack", exported}, "up");
  ASSERT_TRUE(wait_until([&] { return out("up").find("# up;") != std::string::npos; }, 30s))
      << out("up") << read_file(tmp_.path() / "up.err");
  const int redis_port = exported_port(out("up"), "REDIS_URL");
  ASSERT_GT(redis_port, 0) << out("up");
  EXPECT_EQ(backends::testing::redis_command("127.0.0.1", redis_port, "PING").text, "PONG");
  EXPECT_NE(out("up").find("export PGPORT="), std::string::npos);
  EXPECT_NE(out("up").find("seed 7 (--seed)"), std::string::npos) << out("up");
  // The GPU and Docker fakes run as services too: their exports are printed.
  EXPECT_NE(out("up").find("export FAULTLINE_FAKE_GPU_STATE="), std::string::npos) << out("up");
  EXPECT_NE(out("up").find("export DOCKER_HOST='unix://"), std::string::npos) << out("up");

  // Another process reads the state: every service with its ServiceStatus.
  auto [st, json_text] = run({"status", "--json"});
  ASSERT_TRUE(st.success()) << json_text;
  const auto states = nlohmann::json::parse(json_text);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0]["pid"], up.pid());
  EXPECT_EQ(states[0]["backend"], "fake");
  for (const auto& s : states[0]["services"]) {
    EXPECT_EQ(s["status"], "running") << s.dump();
    EXPECT_GE(s["uptime_seconds"].get<int>(), 0);
    EXPECT_TRUE(s["health_check_url"].is_string());
  }
  auto [hst, human] = run({"status"});
  EXPECT_NE(human.find("redis"), std::string::npos) << human;

  // A second stack attaches to the first through the exported stack file.
  Child attached = spawn({"up", "--backend", "external", "--stack", exported}, "attached");
  ASSERT_TRUE(wait_until([&] { return out("attached").find("# up;") != std::string::npos; }, 30s))
      << out("attached") << read_file(tmp_.path() / "attached.err");
  EXPECT_EQ(exported_port(out("attached"), "REDIS_URL"), redis_port);
  EXPECT_EQ(nlohmann::json::parse(run({"status", "--json"}).second).size(), 2u);

  // down stops both; each exits 0 after stopping its stack, and leaves no run behind.
  auto [dst, down_text] = run({"down"});
  EXPECT_TRUE(dst.success()) << down_text;
  EXPECT_TRUE(up.wait().success());
  EXPECT_TRUE(attached.wait().success());
  EXPECT_NE(out("up").find("# stopped (SIGTERM)"), std::string::npos);
  EXPECT_FALSE(backends::testing::redis_command("127.0.0.1", redis_port, "PING").ok);
  EXPECT_TRUE(runs_root_empty());
  EXPECT_NE(run({"status"}).second.find("no running stack"), std::string::npos);
}

TEST_F(UpCommand, SigintStopsItCleanly) {
  Child up = spawn({"up", "--backend", "fake"}, "up");
  ASSERT_TRUE(wait_until([&] { return out("up").find("# up;") != std::string::npos; }, 30s))
      << read_file(tmp_.path() / "up.err");
  up.signal(SIGINT);
  EXPECT_TRUE(up.wait().success());
  EXPECT_NE(out("up").find("# stopped (SIGINT)"), std::string::npos);
  EXPECT_TRUE(runs_root_empty());
}

TEST_F(UpCommand, BadInputIsAOneLineErrorWithExitCode2) {
  auto [st1, text1] = run({"up", "--backend", "docker-compose"});
  EXPECT_EQ(st1.code, 2) << text1;
  EXPECT_NE(text1.find("--backend"), std::string::npos) << text1;
  auto [st2, text2] = run({"up", "--stack", (tmp_.path() / "missing.yaml").string()});
  EXPECT_EQ(st2.code, 2) << text2;
  auto [st3, text3] = run({"down", "--pid", "1"});
  EXPECT_EQ(st3.code, 2) << text3;
  EXPECT_TRUE(runs_root_empty());
}

}  // namespace
}  // namespace faultline
