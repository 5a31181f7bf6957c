// The chaos engine's netns-partition fault end to end: a local service the backend started in its
// own network namespace, cut and healed through the fault kind while the proxy in front of it
// carries real traffic; refused with the reason on the fake backend; untouched by a dry run; and a
// `faultline chaos run` SIGKILLed (its watchdog heals) or SIGTERMed (it heals itself) mid-fault
// leaves no namespace, veth, rule, server or directory behind. Skips, with the reason, where
// namespaces cannot be used here.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chaos/engine/environment.h"
#include "chaos/engine/fault_kind.h"
#include "chaos/engine/runner.h"
#include "chaos/engine/scenario_loader.h"
#include "chaos/netns/network_namespace.h"
#include "harness/core/reaper.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("netns_fault_test");

namespace faultline::chaos {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

#define SKIP_UNLESS_NETNS_WORKS()                                                                 \
  do {                                                                                            \
    if (const auto why = netns::unavailable(testing::test_run_directory())) GTEST_SKIP() << *why; \
    if (netns::tool_path("redis-server").find('/') == std::string::npos)                          \
      GTEST_SKIP() << "redis-server is not installed";                                            \
  } while (0)

constexpr const char* kStack = R"(
stack: netns-fault-test
services:
  cache:
    kind: redis
)";

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One socket to "HOST:PORT", each step bounded by 2 s socket timeouts (a bound on a hang, not a
// timing the test asserts), or -1.
int connect_to(const std::string& address) {
  const auto colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A RESP PING on `fd`: true on +PONG.
bool ping_on(int fd) {
  const char ping[] = "*1\r\n$4\r\nPING\r\n";
  char reply[8] = {};
  return ::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof ping - 1) &&
         ::recv(fd, reply, 7, MSG_WAITALL) == 7 && std::string(reply, 7) == "+PONG\r\n";
}

bool ping(const std::string& address) {
  const int fd = connect_to(address);
  if (fd < 0) return false;
  const bool ok = ping_on(fd);
  ::close(fd);
  return ok;
}

// Whether the journal has an abort of the host's connections with at least one socket aborted.
bool aborted_connections(Journal& journal) {
  for (const auto& e : journal.events())
    if (e.kind == event_kind::kDecision &&
        e.fields.value("decision", "") == "abort-host-connections" &&
        e.fields.value("aborted", 0) > 0)
      return true;
  return false;
}

// Names in `dir` starting with `prefix`.
std::vector<std::string> entries(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0)
      out.push_back(e.path().filename().string());
  return out;
}

TEST(NetnsFault, CutsRealTrafficThroughTheProxyAndTheHealRestoresIt) {
  SKIP_UNLESS_NETNS_WORKS();
  testing::TempDir tmp;
  std::string ns_name, host_if;
  {
    Environment env({"local", std::nullopt, 1, tmp.path() / "journal.jsonl"},
                    stack::parse_stack_file(kStack, "netns-fault-test.yaml"));
    ASSERT_EQ(env.isolate_network("cache"), std::nullopt);
    env.start({"cache"});
    const auto ns = env.network_namespace("cache");
    ASSERT_NE(ns, nullptr);
    ns_name = ns->name();
    host_if = ns->host_interface();
    EXPECT_TRUE(ns->exists());
    EXPECT_EQ(env.handle("cache")->endpoint().host, ns->namespace_address())
        << "the service is reached at the namespace's end of the veth";
    const std::string proxy = env.address("cache");
    EXPECT_EQ(proxy.rfind("127.0.0.1:", 0), 0u) << "clients go through the fault proxy";
    ASSERT_TRUE(testing::wait_until([&] { return ping(proxy); }, seconds(30)))
        << "redis in " << ns_name << " did not answer through the proxy";

    // A connection opened before the cut, to see what the cut does to it.
    const int open = connect_to(proxy);
    ASSERT_GE(open, 0);
    ASSERT_TRUE(ping_on(open));

    const FaultKind* kind = find_fault_kind("netns-partition");
    ASSERT_NE(kind, nullptr);
    EXPECT_EQ(kind->family, "netns");
    auto fault = kind->inject(env, "cache", {{"timeout_ms", 1000}});
    bool pending = false;
    for (const auto& h : read_heal_records(env.run_directory().path()))
      pending =
          pending || h.description.find("heal network partition of namespace " + ns_name) == 0;
    EXPECT_TRUE(pending) << "the cut's heal action is registered while it is applied";

    EXPECT_FALSE(
        ping(ns->namespace_address() + ":" + std::to_string(env.handle("cache")->endpoint().port)))
        << "the service answered across the cut";
    EXPECT_FALSE(ping(proxy)) << "a new connection through the proxy got an answer";
    // The open connection goes silent, then the abort (timeout_ms) closes it: the proxy's upstream
    // socket fails and the proxy closes ours.
    ASSERT_TRUE(
        testing::wait_until([&] { return aborted_connections(env.journal()); }, seconds(30)))
        << "the host's connections to the namespace were not aborted";
    EXPECT_FALSE(ping_on(open)) << "the connection opened before the cut still answers";
    ::close(open);

    fault->heal();
    EXPECT_TRUE(testing::wait_until([&] { return ping(proxy); }, seconds(30)))
        << "redis did not answer through the proxy after the heal";
    for (const auto& h : read_heal_records(env.run_directory().path()))
      EXPECT_EQ(h.description.find("heal network partition"), std::string::npos) << h.description;
    fault->heal();  // idempotent
    fault.reset();
    EXPECT_TRUE(ns->exists()) << "the namespace lives as long as the stack";
  }
  EXPECT_FALSE(fs::exists(fs::path("/run/netns") / ns_name)) << "the namespace was left behind";
  EXPECT_FALSE(fs::exists(fs::path("/sys/class/net") / host_if)) << "the veth was left behind";
}

// A scenario with the fault in modes the fake backend runs.
constexpr const char* kScenario = R"(
scenario: netns-anywhere
description: "netns-partition on a backend that may not offer it"
stack: default
modes: [fake, local]
duration: 5s
step: 1s
workloads:
  - workload: orders
    target: postgres
steady-state:
  every: 5s
  recover: 5s
  probes: []
method:
  faults:
    - fault: netns-partition
      target: postgres
      at: 1s
      duration: 2s
invariants:
  - check: no-acked-write-lost
    workload: orders
budget:
  max-duration: 1m
)";

TEST(NetnsFault, IsRefusedWithTheReasonOnTheFakeBackend) {
  testing::TempDir tmp;
  std::ofstream(tmp.path() / "netns-anywhere.yaml") << kScenario;
  const Scenario s = load_scenario(tmp.path() / "netns-anywhere.yaml", "fake");
  RunOptions o;
  o.backend = "fake";
  o.seed = 1;
  o.out_dir = tmp.path() / "out";
  const RunResult r = run_scenario(s, o);
  EXPECT_EQ(r.verdict, "unknown");
  EXPECT_EQ(r.faults_injected, 0);
  std::string reasons;
  for (const auto& x : r.reasons) reasons += x + "\n";
  EXPECT_NE(reasons.find("fault netns-partition on postgres cannot run on the fake backend here: "
                         "a network namespace needs the local backend"),
            std::string::npos)
      << reasons;
}

TEST(NetnsFault, DryRunTouchesNothing) {
  testing::TempDir tmp;
  std::ofstream(tmp.path() / "netns-anywhere.yaml") << kScenario;
  const Scenario s = load_scenario(tmp.path() / "netns-anywhere.yaml", "local");
  const auto before = entries("/run/netns", "fl-" + std::to_string(::getpid()) + "-");
  RunOptions o;
  o.backend = "local";
  o.seed = 1;
  o.dry_run = true;
  o.out_dir = tmp.path() / "out";
  const RunResult r = run_scenario(s, o);
  EXPECT_EQ(r.verdict, "dry-run");
  ASSERT_EQ(r.schedule.faults.size(), 1u);
  EXPECT_EQ(r.schedule.faults[0].kind, "netns-partition");
  EXPECT_EQ(entries("/run/netns", "fl-" + std::to_string(::getpid()) + "-"), before)
      << "a dry run made a network namespace";
  EXPECT_FALSE(fs::exists(o.out_dir / "journal.jsonl")) << "a dry run started a run";
}

// A long cut, so the run is certainly mid-fault when it is killed.
constexpr const char* kLongCut = R"(
scenario: netns-long-cut
description: "postgres cut for two minutes"
stack: default
modes: [local]
duration: 5s
step: 1s
workloads:
  - workload: orders
    target: postgres
    params: {pool: {size: 2, timeout_ms: 2000, reconnect_attempts: 0}}
steady-state:
  every: 5s
  recover: 30s
  probes: []
method:
  faults:
    - fault: netns-partition
      target: postgres
      at: 1s
      duration: 120s
invariants:
  - check: no-acked-write-lost
    workload: orders
budget:
  max-duration: 3m
)";

// `faultline chaos run` stopped mid-fault: SIGTERM (and SIGINT: the same flag) makes the run heal
// the cut itself, run its rollbacks and exit 1 saying it was interrupted; SIGKILL leaves the
// healing to its watchdog. Either way nothing of the run is left.
class StoppedRun : public ::testing::TestWithParam<int> {};

TEST_P(StoppedRun, LeavesNoNamespaceVethRuleServerOrDirectory) {
  SKIP_UNLESS_NETNS_WORKS();
  testing::TempDir tmp;
  const fs::path dir = tmp.path();
  std::ofstream(dir / "netns-long-cut.yaml") << kLongCut;
  fs::create_directories(dir / "tmp");
  Supervisor supervisor(testing::test_run_directory());
  Child child = supervisor.spawn({{FAULTLINE_TEST_BINARY, "--log-level", "off", "chaos", "run",
                                   (dir / "netns-long-cut.yaml").string(), "--backend", "local",
                                   "--seed", "7", "--out", "out"},
                                  {{"TMPDIR", (dir / "tmp").string()}},
                                  dir,
                                  dir / "stdout",
                                  dir / "stderr"});
  const std::string tag = std::to_string(child.pid()) + "-";
  const fs::path journal = dir / "out" / "netns-long-cut" / "journal.jsonl";
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return slurp(journal).find("\"kind\":\"fault.inject\"") != std::string::npos ||
               !child.running();
      },
      seconds(120)))
      << "no fault was injected";
  ASSERT_TRUE(child.running()) << "the run ended before it could be killed: "
                               << slurp(dir / "stdout");
  const auto namespaces = entries("/run/netns", "fl-" + tag);
  ASSERT_EQ(namespaces.size(), 1u) << "postgres runs in one namespace of the run";
  const auto veths = entries("/sys/class/net", "fh" + tag);
  ASSERT_EQ(veths.size(), 1u);
  // The servers in the namespace, and the cut's rules in it (the runner journals the injection
  // just before it cuts: wait for the rules).
  const std::string ip = "'" + netns::tool_path("ip") + "'";
  const auto look = [&] {
    return run_to_completion(
               {"/bin/sh", "-c",
                ip + " netns pids " + namespaces[0] + " > '" + (dir / "pids").string() + "' && " +
                    ip + " netns exec " + namespaces[0] + " '" + netns::tool_path("iptables") +
                    "' -w -S > '" + (dir / "rules").string() + "'"},
               seconds(20))
               .status.success() &&
           slurp(dir / "rules").find("faultline-partition-") != std::string::npos;
  };
  ASSERT_TRUE(testing::wait_until(look, seconds(30)))
      << "the cut's DROP rules are not in " << namespaces[0] << ": " << slurp(dir / "rules");
  std::vector<pid_t> servers;
  {
    std::ifstream in(dir / "pids");
    for (pid_t p; in >> p;) servers.push_back(p);
  }
  EXPECT_FALSE(servers.empty()) << "no server runs in " << namespaces[0];

  child.signal(GetParam());
  ASSERT_TRUE(testing::wait_until([&] { return !child.running(); }, seconds(120)))
      << "the run did not stop";
  const ExitStatus status = child.wait();
  if (GetParam() != SIGKILL) {
    EXPECT_EQ(status.code, 1) << status.str();
    const std::string events = slurp(journal);
    EXPECT_NE(events.find("\"kind\":\"fault.heal\""), std::string::npos)
        << "the run did not heal the cut itself";
    EXPECT_NE(slurp(dir / "stdout").find("interrupted"), std::string::npos)
        << slurp(dir / "stdout");
  }
  EXPECT_TRUE(testing::wait_until(
      [&] {
        return entries("/run/netns", "fl-" + tag).empty() &&
               entries("/sys/class/net", "fh" + tag).empty();
      },
      seconds(60)))
      << "the watchdog left the namespace or the veth of the killed run";
  EXPECT_TRUE(testing::wait_until(
      [&] {
        for (const pid_t p : servers)
          if (const auto st = read_process_status(p); st && st->state != 'Z' && st->state != 'X')
            return false;
        return true;
      },
      seconds(60)))
      << "a server of the killed run is still running";
  EXPECT_TRUE(testing::wait_until([&] { return entries("/tmp", "faultline-pg-" + tag).empty(); },
                                  seconds(60)))
      << "the killed run's PostgreSQL data directory was left behind";
  EXPECT_TRUE(testing::wait_until(
      [&] {
        const fs::path root = dir / "tmp" / "faultline";
        return !fs::exists(root) || fs::is_empty(root);
      },
      seconds(60)))
      << "the killed run's directory was left behind";
}

INSTANTIATE_TEST_SUITE_P(Signals, StoppedRun, ::testing::Values(SIGKILL, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGKILL ? "SIGKILL" : "SIGTERM");
                         });

}  // namespace
}  // namespace faultline::chaos
