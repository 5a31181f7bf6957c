// The local backend's generic containers with real processes (label local): the monitoring
// subset (fixtures/compose/monitoring-local.yml) as Debian's prometheus and alertmanager through
// the process-backed Docker fake — dependency order with HTTP waits on /-/ready, endpoints that
// answer, a SIGKILLed prometheus restarted by the Orchestrator with its data on its named volume,
// a stop in reverse order that leaves no process and no folder — and an image without a local
// program reported as unavailable with the reason.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fakes/docker/fake_docker.h"
#include "fakes/docker/local_images.h"
#include "harness/backends/hooks.h"
#include "harness/backends/local_backend.h"
#include "harness/backends/stack_session.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"
#include "harness/core/supervisor.h"
#include "harness/ops/service_exporter.h"
#include "harness/stack/orchestrator.h"
#include "harness/testing/net_testing.h"
#include "harness/testing/process_testing.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using faultline::testing::wait_until;
namespace fs = std::filesystem;

int ready_status(const stack::ServiceHandle* h) {
  if (!h || h->endpoint().port <= 0) return 0;
  return faultline::testing::http(static_cast<std::uint16_t>(h->endpoint().port), "GET", "/-/ready")
      .status;
}

// What `pgrep -af <text>` lists: the processes whose command line names `text` (the run's
// folder), read from /proc.
std::string processes_naming(const std::string& text) {
  std::string out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto& ch : cmdline) ch = ch == '\0' ? ' ' : ch;
    if (cmdline.find(text) != std::string::npos) out += pid + " " + cmdline + "\n";
  }
  return out;
}

class LocalContainersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* image : {"prom/prometheus", "prom/alertmanager"}) {
      if (!fakes::docker::map_local_image(image)) {
        GTEST_SKIP() << image << " does not map to a local program (Debian's prometheus and "
                     << "prometheus-alertmanager are not installed)";
      }
    }
    stack::LoadOptions options;
    options.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    stack_ = stack::load_compose(
        std::string(FAULTLINE_SOURCE) + "/fixtures/compose/monitoring-local.yml", options);
    run_.emplace(RunDirectory::create("local_containers", {.root = tmp_.path()}));
    backend_.emplace(*run_, clock_);
  }

  stack::OrchestratorOptions fast() {
    stack::OrchestratorOptions o;
    o.backoff_base = 10ms;
    o.poll_interval = 20ms;
    o.stop_grace = 10s;
    o.health_timeout = 60s;
    return o;
  }

  int pid_of(const std::string& service) {
    for (const auto& c : backend_->container_engine()->containers()) {
      if (c.name.find(service) != std::string::npos && c.status == "running") return c.pid;
    }
    return 0;
  }

  faultline::testing::TempDir tmp_;
  RealClock clock_;
  stack::Stack stack_;
  std::optional<RunDirectory> run_;
  std::optional<backends::LocalBackend> backend_;
};

TEST_F(LocalContainersTest, MonitoringComesUpRestartsWithItsVolumeAndLeavesNothing) {
  Journal journal(clock_);
  std::optional<stack::Orchestrator> o;
  o.emplace(stack_, *backend_, clock_, &journal, fast());
  for (const auto& st : o->start_services()) {
    EXPECT_EQ(st.status, stack::ServiceStatus::State::running) << st.service_name << st.detail;
  }
  std::size_t alertmanager_ready = 0, prometheus_start = 0;
  for (const auto& e : journal.events()) {
    if (e.kind == "service.ready" && e.subject == "alertmanager") alertmanager_ready = e.seq;
    if (e.kind == "service.start" && e.subject == "prometheus") prometheus_start = e.seq;
  }
  EXPECT_GT(alertmanager_ready, 0u);
  EXPECT_GT(prometheus_start, alertmanager_ready) << "prometheus depends_on alertmanager";
  EXPECT_EQ(ready_status(o->handle("alertmanager")), 200);
  EXPECT_EQ(ready_status(o->handle("prometheus")), 200);
  const auto api =
      faultline::testing::http(static_cast<std::uint16_t>(o->handle("prometheus")->endpoint().port),
                               "GET", "/api/v1/status/buildinfo");
  EXPECT_EQ(api.status, 200);
  EXPECT_NE(api.body.find("\"version\""), std::string::npos) << api.body;

  // Prometheus's TSDB is on its named volume: a folder of the run directory.
  fs::path volume;
  for (const auto& e : fs::recursive_directory_iterator(run_->path())) {
    if (e.path().filename().string().find("prometheus_data") != std::string::npos &&
        e.path().parent_path().filename() == "volumes") {
      volume = e.path();
    }
  }
  ASSERT_FALSE(volume.empty()) << "no prometheus_data volume under " << run_->path();
  ASSERT_TRUE(wait_until([&] { return fs::exists(volume / "wal" / "00000000"); }));
  std::ofstream(volume / "marker") << "written before the crash\n";

  const int pid = pid_of("prometheus");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  log::configure({.level = log::Level::off});
  const bool restarted = wait_until(
      [&] {
        for (const auto& st : o->monitor_health()) {
          if (st.service_name == "prometheus" && st.restarts == 1 &&
              st.status == stack::ServiceStatus::State::running) {
            return true;
          }
        }
        return false;
      },
      60s);
  log::configure({});
  ASSERT_TRUE(restarted);
  EXPECT_NE(pid_of("prometheus"), pid) << "a new process";
  // Running again; ready once its wait holds (the Orchestrator keeps probing).
  EXPECT_TRUE(wait_until(
      [&] {
        o->monitor_health();
        return ready_status(o->handle("prometheus")) == 200;
      },
      60s));
  EXPECT_TRUE(fs::exists(volume / "marker")) << "the volume outlived the container";
  EXPECT_TRUE(fs::exists(volume / "wal" / "00000000")) << "the TSDB's first WAL segment is kept";

  o->stop_services();
  std::vector<std::string> order;
  for (const auto& e : journal.events()) {
    if (e.kind == "service.stop") order.push_back(e.subject);
  }
  ASSERT_GE(order.size(), 2u);
  EXPECT_EQ(std::vector<std::string>(order.end() - 2, order.end()),
            (std::vector<std::string>{"prometheus", "alertmanager"}));
  EXPECT_EQ(processes_naming(run_->path().string()), "") << "no process of the run is left";
  o.reset();
  backend_.reset();
  for (const auto& e : fs::directory_iterator(run_->path())) {
    EXPECT_EQ(e.path().filename().string().rfind("containers-", 0), std::string::npos)
        << e.path() << " is left";
  }
}

// A restarted container comes back on a new published port (the engine gives each start a free
// one): the session's exporter follows it, so /health reads the service where it now is.
TEST_F(LocalContainersTest, TheExporterFollowsARestartedContainerToItsNewPort) {
  backend_.reset();  // the session brings its own
  backends::StackSessionOptions options;
  options.backend = "local";
  options.orchestrator = fast();
  backends::StackSession session(*run_, stack_, options);
  session.start();
  ops::ServiceExporter* exporter = session.exporter();
  ASSERT_NE(exporter, nullptr);
  auto exported_port = [&] {
    for (const auto& s : exporter->services()) {
      if (s.name == "prometheus") return s.address.port;
    }
    return 0;
  };
  const int before = session.handle("prometheus")->endpoint().port;
  ASSERT_EQ(exported_port(), before);
  const auto health = static_cast<std::uint16_t>(exporter->port("prometheus"));
  EXPECT_EQ(faultline::testing::http(health, "GET", "/health").status, 200);

  auto killed = session.handle("prometheus")->apply_hook(backends::hook::kKill, {});
  log::configure({.level = log::Level::off});
  const bool moved = wait_until(
      [&] {
        session.monitor();
        const stack::ServiceHandle* h = session.handle("prometheus");  // none while restarting
        const int now = h ? h->endpoint().port : 0;
        return now > 0 && now != before && exported_port() == now && ready_status(h) == 200;
      },
      60s);
  log::configure({});
  ASSERT_TRUE(moved) << "prometheus was at " << before << ", exported at " << exported_port();
  const auto after = faultline::testing::http(health, "GET", "/health");
  EXPECT_EQ(after.status, 200) << after.body;
  session.stop();
  EXPECT_EQ(processes_naming(run_->path().string()), "") << "no process of the run is left";
}

TEST_F(LocalContainersTest, AnImageWithoutALocalProgramIsUnavailableWithTheReason) {
  stack::Service app;
  app.name = "app";
  app.kind = stack::ServiceKind::container;
  app.image = "trading/app";
  const auto why = backend_->unavailable(app);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("no local program for image trading/app:latest of service 'app'"),
            std::string::npos)
      << *why;
  EXPECT_NE(why->find("prom/prometheus"), std::string::npos) << "names the mapped images";
  EXPECT_THROW(backend_->start(app, {}), Error);
  app.image = "busybox";
  EXPECT_EQ(backend_->unavailable(app), std::nullopt);
}

// /proc/<pid>/stat's state letter, or 0 when the process is gone.
char proc_state(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? 0 : text[close + 2];
}

// A harness (a forked child) runs a container service on the local backend and is killed with
// SIGKILL: its process and its run directory must go (the Supervisor's record, the watchdog).
TEST(LocalContainersKilledHarness, LeavesNoProcessAndNoFolder) {
  if (!fakes::docker::map_local_image("busybox")) GTEST_SKIP() << "busybox does not map (no sh)";
  faultline::testing::TempDir tmp;
  const auto holder = faultline::testing::fork_holder([&] {
    // Never freed: the harness is SIGKILLed holding them.
    auto* run = new RunDirectory(RunDirectory::create("killed harness", {.root = tmp.path()}));
    auto* clock = new RealClock;
    auto* backend = new backends::LocalBackend(*run, *clock);
    stack::Service s;
    s.name = "sleeper";
    s.kind = stack::ServiceKind::container;
    s.image = "busybox:1.36";
    s.command = {"sh", "-c", "echo up; sleep 1000"};
    [[maybe_unused]] auto* handle = backend->start(s, {}).release();
    const int pid = backend->container_engine()->containers().at(0).pid;
    return "ok " + std::to_string(pid) + " " + run->path().string();
  });
  faultline::testing::kill_holder(holder);
  std::istringstream report(holder.report);
  std::string ok, run_path;
  int pid = 0;
  report >> ok >> pid >> run_path;
  ASSERT_EQ(ok, "ok") << "the harness did not start its container: " << holder.report;
  const fs::path run = run_path;
  EXPECT_TRUE(wait_until(
      [&] {
        const char st = proc_state(pid);
        return st == 0 || st == 'Z' || st == 'X';
      },
      30s))
      << "the container's process " << pid << " outlived the harness";
  EXPECT_TRUE(wait_until([&] { return !fs::exists(run); }, 30s)) << run << " is left";
  EXPECT_EQ(processes_naming(run.string()), "");
}

}  // namespace
}  // namespace faultline
