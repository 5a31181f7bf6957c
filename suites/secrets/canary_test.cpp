// A canary secret never leaves the environment: with a unique password in DB_PASSWORD (which the
// default stack names as PostgreSQL's password-env, and which the pool sends at connect time) and
// in a variable a stack file's service environment references, the whole chaos catalogue runs
// against that stack, `faultline up` brings it up and down, and the traceability report is written
// — and no log line, journal, result, JUnit file, timeline, Prometheus textfile or report contains
// the canary. One input error quotes a value interpolated from the secret, so the scan has
// something to find if redaction of CLI errors breaks. (The Redactor replaces the values of
// variables named *PASSWORD*, *SECRET*, *TOKEN* and *KEY* wherever faultline writes.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "harness/core/rng.h"
#include "harness/core/supervisor.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("canary");

namespace faultline {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Outcome {
  ExitStatus status;
  bool ended = false;
};

Outcome run_faultline(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env, const fs::path& dir,
                      const std::string& name,
                      std::chrono::seconds bound = std::chrono::seconds(300)) {
  std::vector<std::string> argv = {FAULTLINE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  Supervisor supervisor(testing::test_run_directory());
  Child child = supervisor.spawn({argv, env, dir, dir / (name + ".out"), dir / (name + ".err")});
  Outcome r;
  r.ended = testing::wait_until([&] { return !child.running(); }, bound);
  r.status = r.ended ? child.wait() : child.terminate();
  return r;
}

// Every file under `root` that contains `needle`.
std::vector<std::string> files_containing(const fs::path& root, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && slurp(e.path()).find(needle) != std::string::npos) {
      found.push_back(e.path().string());
    }
  }
  return found;
}

TEST(CanarySecret, NeverAppearsInAnyLogJournalReportJunitOrTimeline) {
  FAULTLINE_COVERS(
      "ET-INFRA-08.2");  // PT-INFRA-08.1 also asks every service for /health + /metrics
  Rng rng = testing::test_rng();
  const std::string canary = "canary-" + std::to_string(rng.next());
  testing::TempDir tmp;
  const fs::path dir = tmp.path();

  // A stack file whose services reference the canary through the environment.
  std::string stack = slurp(fs::path(FAULTLINE_SOURCE) / "fixtures/stacks/default.yaml");
  stack +=
      "  app-secrets:\n    kind: redis\n    environment:\n      API_TOKEN: "
      "${FAULTLINE_CANARY_TOKEN}\n";
  std::ofstream(dir / "canary-stack.yaml") << stack;
  const std::map<std::string, std::string> env = {{"DB_PASSWORD", canary},
                                                  {"FAULTLINE_CANARY_TOKEN", canary}};

  const Outcome check = run_faultline({"check", "canary-stack.yaml"}, env, dir, "check");
  ASSERT_TRUE(check.ended && check.status.success()) << slurp(dir / "check.err");

  // A compose file whose bad value is interpolated from the secret: the error line that names the
  // value must name it redacted (it once printed the secret).
  std::ofstream(dir / "leaky-compose.yml")
      << "services:\n  db:\n    image: postgres:15\n    ports: [\"${DB_PASSWORD}:5432\"]\n";
  const Outcome bad = run_faultline({"check", "leaky-compose.yml"}, env, dir, "bad");
  ASSERT_TRUE(bad.ended);
  EXPECT_EQ(bad.status.code, 2);
  const std::string bad_err = slurp(dir / "bad.err");
  EXPECT_NE(bad_err.find("leaky-compose.yml:4"), std::string::npos) << bad_err;
  EXPECT_NE(bad_err.find("[redacted]:5432"), std::string::npos) << bad_err;

  const Outcome chaos =
      run_faultline({"--log-level", "debug", "--log-format", "json", "chaos", "run", "--all",
                     "--backend", "fake", "--stack", "canary-stack.yaml", "--out", "chaos"},
                    env, dir, "chaos");
  ASSERT_TRUE(chaos.ended) << "the chaos run did not end";
  ASSERT_TRUE(fs::exists(dir / "chaos" / "junit.xml")) << slurp(dir / "chaos.err");

  const Outcome report = run_faultline(
      {"report", "--matrix", (fs::path(FAULTLINE_SOURCE) / "fixtures/req-infra.yaml").string(),
       "--results", "chaos/junit.xml=fake", "--out", "report"},
      env, dir, "report");
  ASSERT_TRUE(report.ended && report.status.success()) << slurp(dir / "report.err");
  ASSERT_TRUE(fs::exists(dir / "report" / "traceability.html"));

  // What was written: logs (stdout, stderr), journals, results, JUnit, timelines, metrics, report.
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_GT(files, 20u);
  const auto leaks = files_containing(dir, canary);
  // The stack file itself holds only the variable's name, never its value.
  EXPECT_TRUE(leaks.empty()) << "the canary leaked into " << leaks.size() << " file(s), first "
                             << leaks.front();
  // And the test's own run directory (children's records, heal actions).
  EXPECT_TRUE(files_containing(testing::test_run_directory().path(), canary).empty());
}

}  // namespace
}  // namespace faultline
