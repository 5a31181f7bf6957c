// Runs the `faultline` binary as users do and checks exit codes, error lines and report files.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "harness/core/run_dir.h"
#include "harness/testing/covers.h"

namespace fs = std::filesystem;

namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("faultline-cli-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  CliRun run(const std::string& args, const std::string& env = "") {
    const std::string cmd = env + " " + FAULTLINE_BIN + " " + args + " >" +
                            (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string();
    int status = std::system(cmd.c_str());
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(dir_ / "stdout");
    r.err = slurp(dir_ / "stderr");
    return r;
  }

  std::string fixture(const std::string& rel) { return std::string(FAULTLINE_SOURCE) + "/" + rel; }

  fs::path dir_;
};

TEST_F(CliTest, VersionPrintsAndExitsZero) {
  CliRun r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("faultline "), std::string::npos);
}

TEST_F(CliTest, UnknownCommandIsAUsageError) {
  CliRun r = run("frobnicate");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

TEST_F(CliTest, HelpNamesTheCommands) {
  CliRun r = run("help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("report"), std::string::npos);
  EXPECT_NE(r.out.find("reap"), std::string::npos);
  EXPECT_EQ(run("help nosuch").code, 2);
}

TEST_F(CliTest, ReportWithoutRequiredOptionsIsAUsageError) {
  CliRun r = run("report --matrix " + fixture("fixtures/req-infra.yaml"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--results"), std::string::npos) << r.err;
}

TEST_F(CliTest, BrokenMatrixNamesFileAndLine) {
  std::string text = slurp(fixture("fixtures/req-infra.yaml"));
  // Give UT-INFRA-01.2 the id of UT-INFRA-01.1: a duplicate.
  auto pos = text.find("id: UT-INFRA-01.2");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 17, "id: UT-INFRA-01.1");
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
  std::ofstream(dir_ / "broken.yaml") << text;
  CliRun r = run("report --matrix " + (dir_ / "broken.yaml").string() + " --results " +
                 fixture("fixtures/trace/results/fake") + " --out " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find((dir_ / "broken.yaml").string() + ":" + std::to_string(line)),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("duplicate id 'UT-INFRA-01.1'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "out")) << "nothing written on bad input";
}

TEST_F(CliTest, MissingResultsDirectoryIsAnInputError) {
  CliRun r = run("report --matrix " + fixture("fixtures/req-infra.yaml") + " --results " +
                 (dir_ / "nope").string() + "=fake --out " + (dir_ / "out").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
}

TEST_F(CliTest, ReportWritesEveryFormatAndGates) {
  const std::string args = "report --matrix " + fixture("fixtures/trace/mini-matrix.yaml") +
                           " --results " + fixture("fixtures/trace/results/fake") + " --results " +
                           fixture("fixtures/trace/results/local") + " --out " +
                           (dir_ / "out").string();
  CliRun r = run(args);
  ASSERT_EQ(r.code, 0) << r.err;
  for (auto name : {"traceability.json", "traceability.md", "traceability.html", "junit.xml"}) {
    EXPECT_TRUE(fs::exists(dir_ / "out" / name)) << name;
  }
  EXPECT_NE(r.out.find("1 failing"), std::string::npos) << r.out;
  EXPECT_EQ(run(args + " --gate").code, 1) << "a failing requirement fails the gate";
  EXPECT_EQ(run(args + " --strict").code, 2) << "--strict needs --gate";
}

TEST_F(CliTest, GatePassesWithoutFailuresUnlessStrict) {
  // Only the local run: the failing case there is a skip, so nothing fails, but not all is covered.
  const std::string args = "report --matrix " + fixture("fixtures/trace/mini-matrix.yaml") +
                           " --results " + fixture("fixtures/trace/results/local") + " --out " +
                           (dir_ / "out").string() + " --gate";
  EXPECT_EQ(run(args).code, 0);
  EXPECT_EQ(run(args + " --strict").code, 1);
}

TEST_F(CliTest, SecretsFromTheEnvironmentStayOutOfReports) {
  FAULTLINE_COVERS("ET-INFRA-08.2");
  // The fixture's failure message contains "Which is: 31"; make a secret of a string in it.
  const std::string args = "report --matrix " + fixture("fixtures/trace/mini-matrix.yaml") +
                           " --results " + fixture("fixtures/trace/results/fake") + " --out " +
                           (dir_ / "out").string();
  CliRun r = run(args, "DEMO_DB_PASSWORD='Expected equality'");
  ASSERT_EQ(r.code, 0) << r.err;
  for (auto name : {"traceability.json", "traceability.md", "traceability.html", "junit.xml"}) {
    const std::string content = slurp(dir_ / "out" / name);
    EXPECT_EQ(content.find("Expected equality"), std::string::npos) << name;
    EXPECT_NE(content.find("[redacted]"), std::string::npos) << name;
  }
}

// A harness killed with SIGKILL while its watchdog was off leaves its run directory and a pending
// heal; `faultline reap` runs the heal and removes the directory, and a second reap finds nothing.
TEST_F(CliTest, ReapCleansADeadRunAndHealsItsFault) {
  const fs::path runs = dir_ / "runs";
  const fs::path marker = dir_ / "healed";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const pid_t harness = ::fork();
  ASSERT_GE(harness, 0);
  if (harness == 0) {
    ::close(fds[0]);
    auto run = faultline::RunDirectory::create("cli reap test", {.root = runs, .watchdog = false});
    run.add_heal_action("touch the marker", {"touch", marker.string()});
    if (::write(fds[1], "x", 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  char byte = 0;
  pollfd ready{fds[0], POLLIN, 0};
  const bool started = ::poll(&ready, 1, 20000) == 1 && ::read(fds[0], &byte, 1) == 1;
  ::close(fds[0]);
  ::kill(harness, SIGKILL);
  ::waitpid(harness, nullptr, 0);
  ASSERT_TRUE(started);

  CliRun dry = run("reap --dry-run --root " + runs.string());
  EXPECT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would reap"), std::string::npos) << dry.out;
  EXPECT_FALSE(fs::exists(marker)) << "a dry run changes nothing";

  CliRun reap = run("reap --root " + runs.string());
  EXPECT_EQ(reap.code, 0) << reap.err;
  EXPECT_TRUE(fs::exists(marker)) << reap.out;
  EXPECT_TRUE(fs::is_empty(runs)) << reap.out;
  EXPECT_NE(run("reap --root " + runs.string()).out.find("nothing to reap"), std::string::npos);
}

}  // namespace
