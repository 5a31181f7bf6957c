// The bad-input catalogue (catalogue.yaml beside this file), one test per case: malformed files,
// CLI flags, HTTP requests and wire bytes, each of which must get a clear answer — exit 2 naming
// the file and line, the API's 4xx naming the problem, the protocol's own error — and must neither
// crash, hang, nor change state. The servers (`faultline proxy`, `faultline fake redis|postgres`)
// run as processes of this test's run directory, started when a case first needs them; after each
// case against one of them, the server must still answer a good request.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "harness/core/error.h"
#include "harness/core/ports.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/testing/net_testing.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("bad_input");

namespace faultline {
namespace {

namespace fs = std::filesystem;
using faultline::testing::http;

struct Case {
  std::string id;
  YAML::Node node;
};

std::vector<Case> load_cases() {
  const std::string path = std::string(FAULTLINE_SOURCE) + "/suites/bad_input/catalogue.yaml";
  std::vector<Case> cases;
  for (const auto& c : YAML::LoadFile(path)["cases"]) {
    cases.push_back({c["id"].as<std::string>(), c});
  }
  return cases;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (n) {
    for (const auto& s : n) out.push_back(s.as<std::string>());
  }
  return out;
}

struct Outcome {
  int code = -1;
  std::string out, err;
};

// Runs faultline with `argv` to completion (killed after a generous bound: a case that does not
// end is a hang, reported as such).
Outcome run_faultline(const std::vector<std::string>& args, const fs::path& dir) {
  std::vector<std::string> argv = {FAULTLINE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  Supervisor supervisor(faultline::testing::test_run_directory());
  Child child = supervisor.spawn({argv, {}, dir, dir / "stdout", dir / "stderr"});
  const bool ended =
      faultline::testing::wait_until([&] { return !child.running(); }, std::chrono::seconds(30));
  const ExitStatus status = ended ? child.wait() : child.terminate();
  Outcome o;
  o.code = ended ? (status.signal ? 128 + status.signal : status.code) : -2;
  o.out = slurp(dir / "stdout");
  o.err = slurp(dir / "stderr");
  return o;
}

// A server process the http and wire cases talk to, with a good request that proves it alive.
struct Server {
  std::optional<Child> child;
  std::uint16_t port = 0;     // its protocol port (the proxy: its API)
  std::uint16_t control = 0;  // its HTTP API
};

std::map<std::string, Server>& servers() {
  static std::map<std::string, Server> all;
  return all;
}

Server& server(const std::string& name) {
  auto& all = servers();
  if (auto it = all.find(name); it != all.end()) return it->second;
  Server s;
  s.port = pick_free_port();
  s.control = pick_free_port();
  std::vector<std::string> argv = {FAULTLINE_BIN, "--log-level", "warn"};
  if (name == "proxy") {
    s.control = s.port;
    argv.insert(argv.end(), {"proxy", "--api", "127.0.0.1:" + std::to_string(s.port)});
  } else {
    argv.insert(argv.end(), {"fake", name, "--port", std::to_string(s.port), "--control",
                             "127.0.0.1:" + std::to_string(s.control)});
  }
  auto& run = faultline::testing::test_run_directory();
  Supervisor supervisor(run);
  s.child.emplace(supervisor.spawn(
      {argv, {}, run.path(), run.path() / (name + ".out"), run.path() / (name + ".err")}));
  const bool up = faultline::testing::wait_until(
      [&] { return http(s.control, "GET", name == "proxy" ? "/version" : "/health").status; });
  if (!up) throw Error(name + " did not start: " + slurp(run.path() / (name + ".err")));
  if (name == "proxy") {
    // A proxy for the cases to aim at.
    const auto r = http(s.control, "POST", "/proxies",
                        R"({"name":"base","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"})");
    if (r.status != 201) throw Error("creating the base proxy failed: " + r.body);
  }
  return all.emplace(name, std::move(s)).first->second;
}

// The server still answers a good request.
void expect_alive(const std::string& name) {
  Server& s = server(name);
  ASSERT_TRUE(s.child->running()) << name << " died";
  if (name == "redis") {
    auto fd = faultline::testing::connect_local(s.port);
    ASSERT_TRUE(fd) << "redis fake refuses connections";
    faultline::testing::send_all(fd.get(), "PING\r\n");
    EXPECT_EQ(faultline::testing::read_until(fd.get(), 7).data, "+PONG\r\n");
  }
  const std::string path = name == "proxy" ? "/version" : (name == "redis" ? "/health" : "/status");
  EXPECT_EQ(http(s.control, "GET", path).status, 200) << name << " no longer answers";
}

class Catalogue : public ::testing::TestWithParam<Case> {};

TEST_P(Catalogue, Case) {
  const Case& c = GetParam();
  const YAML::Node& n = c.node;
  const YAML::Node expect = n["expect"];
  faultline::testing::TempDir tmp;
  const fs::path dir = tmp.path();
  const std::string file =
      (dir / (n["name"] ? n["name"].as<std::string>() : "input.yaml")).string();
  const auto subst = [&](std::string s) {
    return replace_all(replace_all(std::move(s), "{file}", file), "{dir}", dir.string());
  };
  if (n["file"]) std::ofstream(file) << n["file"].as<std::string>();

  if (n["run"]) {
    std::vector<std::string> args;
    for (const auto& a : strings(n["run"])) args.push_back(subst(a));
    const Outcome o = run_faultline(args, dir);
    ASSERT_NE(o.code, -2) << "hung: still running after 30 s";
    EXPECT_EQ(o.code, expect["exit"].as<int>()) << o.err;
    for (const auto& want : strings(expect["stderr"])) {
      EXPECT_NE(o.err.find(subst(want)), std::string::npos)
          << "stderr lacks '" << subst(want) << "':\n"
          << o.err;
    }
    if (expect["exit"].as<int>() == 2) {
      // One clear line, not a dump.
      EXPECT_LE(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
      EXPECT_EQ(o.err.find("terminate called"), std::string::npos) << o.err;
    }
  } else if (n["http"]) {
    const YAML::Node h = n["http"];
    const std::string name = h["server"].as<std::string>();
    Server& s = server(name);
    std::string before;
    if (n["unchanged"]) {
      before = http(s.control, n["unchanged"]["method"].as<std::string>(),
                    n["unchanged"]["path"].as<std::string>())
                   .body;
    }
    const auto r = http(s.control, h["method"].as<std::string>(), h["path"].as<std::string>(),
                        h["body"] ? h["body"].as<std::string>() : "");
    EXPECT_EQ(r.status, expect["status"].as<int>()) << r.body;
    for (const auto& want : strings(expect["body"])) {
      EXPECT_NE(r.body.find(want), std::string::npos) << "reply lacks '" << want << "': " << r.body;
    }
    if (n["unchanged"]) {
      const auto after = http(s.control, n["unchanged"]["method"].as<std::string>(),
                              n["unchanged"]["path"].as<std::string>())
                             .body;
      EXPECT_EQ(after, before) << "a rejected request changed state";
    }
    expect_alive(name);
  } else if (n["wire"]) {
    const YAML::Node w = n["wire"];
    const std::string name = w["server"].as<std::string>();
    Server& s = server(name);
    auto fd = faultline::testing::connect_local(s.port);
    ASSERT_TRUE(fd);
    faultline::testing::send_all(fd.get(), w["send"].as<std::string>());
    // Everything it says until it closes, or until it has said nothing more for a while.
    const auto r = faultline::testing::read_until(fd.get(), SIZE_MAX, std::chrono::seconds(3));
    for (const auto& want : strings(expect["reply"])) {
      EXPECT_NE(r.data.find(want), std::string::npos) << "reply lacks '" << want << "': " << r.data;
    }
    if (expect["closed"] && expect["closed"].as<bool>()) {
      EXPECT_TRUE(r.eof || r.error != 0) << "the connection was left open";
    }
    expect_alive(name);
  } else {
    FAIL() << "case " << c.id << " has no run, http or wire";
  }
}

INSTANTIATE_TEST_SUITE_P(BadInput, Catalogue, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.id; });

TEST(CatalogueSize, HoldsAtLeastFortyCases) {
  EXPECT_GE(load_cases().size(), 40u);
}

// The servers go before the run directory does.
class StopServers : public ::testing::Environment {
 public:
  void TearDown() override { servers().clear(); }
};
const auto* const kStopServers = ::testing::AddGlobalTestEnvironment(new StopServers);

}  // namespace
}  // namespace faultline
