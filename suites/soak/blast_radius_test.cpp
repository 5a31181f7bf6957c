// Blast radius (issue 9): the control APIs bind loopback by default and refuse other addresses
// where they are meant to, the fakes listen on loopback only, and `faultline chaos run --dry-run`
// touches nothing — no run directory, no output directory, no PostgreSQL data directory, no
// network namespace, no child process left — for every scenario of the catalogue, on the fake
// and the local backend.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chaos/proxy/http_api.h"
#include "chaos/proxy/proxy_server.h"
#include "fakes/postgres/postgres_fake.h"
#include "fakes/postgres/testing/real_postgres.h"
#include "fakes/redis/server.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/http_server.h"
#include "harness/core/rng.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"
#include "suites/soak/process_tree.h"

namespace faultline::soak {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kNotLoopback = {"0.0.0.0", "::", "192.0.2.2", "10.1.2.3"};

TEST(BlastRadius, HttpServerBindsLoopbackByDefaultAndRefusesOtherAddresses) {
  EventLoop loop;
  auto handler = [](const HttpRequest&) { return HttpReply::text(200, "ok"); };
  HttpServer server(loop, handler);
  server.start();
  EXPECT_TRUE(server.address().starts_with("127.0.0.1:")) << server.address();
  for (const auto& host : kNotLoopback) {
    HttpServerOptions options;
    options.host = host;
    try {
      HttpServer other(loop, handler, options);
      other.start();
      ADD_FAILURE() << "bound " << other.address();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("loopback"), std::string::npos) << e.what();
    }
  }
}

TEST(BlastRadius, ProxyApiBindsLoopbackWhenNoHostIsGiven) {
  EventLoop loop;
  RealClock clock;
  proxy::ProxyServer server(loop, clock, Rng(1));
  proxy::HttpApi api(server, ":0");
  EXPECT_TRUE(api.address().starts_with("127.0.0.1:")) << api.address();
}

TEST(BlastRadius, FakesListenOnLoopbackOnly) {
  EventLoop loop;
  RealClock clock;
  for (const auto& host : kNotLoopback) {
    fakes::redis::RedisFakeOptions redis_options;
    redis_options.host = host;
    EXPECT_ANY_THROW({
      fakes::redis::RedisFake redis(loop, clock, redis_options);
      redis.start();
    }) << "redis fake on "
       << host;
    pg::PostgresFakeOptions pg_options;
    pg_options.host = host;
    EXPECT_ANY_THROW({
      pg::PostgresFake pg(loop, clock, pg_options);
      pg.start();
    }) << "postgres fake on "
       << host;
  }
}

std::vector<std::string> catalogue() {
  std::vector<std::string> out;
  for (const auto& entry :
       fs::directory_iterator(fs::path(FAULTLINE_TEST_SOURCE_DIR) / "scenarios")) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::set<fs::path> pg_data_dirs() {
  std::set<fs::path> out;
  for (const auto& entry : fs::directory_iterator(testing::pg_data_root())) {
    if (entry.path().filename().string().starts_with("faultline-pg-")) out.insert(entry.path());
  }
  return out;
}

TEST(BlastRadius, DryRunTouchesNothing) {
  const auto scenarios = catalogue();
  ASSERT_GE(scenarios.size(), 4u);
  RunDirectory own = RunDirectory::create("blast-radius");  // the harness runs as our child
  Supervisor supervisor(own);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  for (const std::string backend : {"fake", "local"}) {
    for (const auto& scenario : scenarios) {
      SCOPED_TRACE(scenario + " on " + backend);
      testing::TempDir tmp;
      const fs::path tmpdir = tmp.path() / "tmp";
      const fs::path cwd = tmp.path() / "cwd";
      fs::create_directories(tmpdir);
      fs::create_directories(cwd);
      const auto namespaces = network_namespaces();
      const auto pg_before = pg_data_dirs();
      Child run = supervisor.spawn({{FAULTLINE_TEST_BINARY, "chaos", "run", scenario, "--dry-run",
                                     "--backend", backend, "--seed", "5", "--out", "out"},
                                    {{"TMPDIR", tmpdir.string()}},
                                    cwd,
                                    tmp.path() / "stdout",
                                    tmp.path() / "stderr"});
      const ExitStatus status = run.wait();
      const std::string out = testing::read_file(tmp.path() / "stdout");
      const std::string err = testing::read_file(tmp.path() / "stderr");
      if (status.code == 2) {
        // A scenario the backend cannot run is refused before anything starts.
        EXPECT_NE(err.find("does not run on the " + backend + " backend"), std::string::npos)
            << err;
      } else {
        EXPECT_TRUE(status.success()) << status.str() << ": " << err;
        EXPECT_NE(out.find("nothing injected"), std::string::npos) << out;
      }
      EXPECT_TRUE(fs::is_empty(tmpdir)) << "a dry run made a run directory (or other temp file)";
      EXPECT_TRUE(fs::is_empty(cwd)) << "a dry run wrote outputs";
      EXPECT_EQ(network_namespaces(), namespaces);
      for (const auto& dir : pg_data_dirs()) {
        EXPECT_TRUE(pg_before.count(dir) ||
                    dir.filename().string().find("-" + std::to_string(run.pid()) + "-") ==
                        std::string::npos)
            << "a dry run made " << dir;
      }
      // We are a subreaper: anything the dry run started and left would now be our child.
      std::vector<std::string> left;
      for (const pid_t pid : descendants_of(::getpid())) {
        if (own.watchdog() && pid == own.watchdog()->pid) continue;
        left.push_back(describe_process(pid));
      }
      EXPECT_TRUE(left.empty()) << "left running: " << ::testing::PrintToString(left);
    }
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

}  // namespace
}  // namespace faultline::soak
