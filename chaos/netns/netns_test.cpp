// NetworkNamespace and NetnsPartition against a real redis-server in its own namespace: the cut
// drops packets silently, heal brings the service back, and a SIGKILLed holder of the fault is
// healed by its watchdog or by the reaper. Skips, with the reason, where namespaces or iptables
// inside them do not work (not root, no iproute2, ...).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "chaos/netns/netns_partition.h"
#include "chaos/netns/network_namespace.h"
#include "harness/core/error.h"
#include "harness/core/reaper.h"
#include "harness/core/supervisor.h"
#include "harness/core/unique_fd.h"
#include "harness/testing/process_testing.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("netns_test");

namespace faultline::netns {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using testing::fork_holder;
using testing::Holder;
using testing::kill_holder;

constexpr int kRedisPort = 6379;

#define SKIP_UNLESS_NETNS_WORKS()                                                          \
  do {                                                                                     \
    if (const auto why = unavailable(testing::test_run_directory())) GTEST_SKIP() << *why; \
    if (::access("/usr/bin/redis-server", X_OK) != 0 &&                                    \
        tool_path("redis-server").find('/') == std::string::npos)                          \
      GTEST_SKIP() << "redis-server is not installed";                                     \
  } while (0)

sockaddr_in address_of(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  return addr;
}

// A RESP PING over a fresh connection; each step bounded by socket timeouts (a bound on a hang,
// not a timing the test asserts: callers retry until a generous wait_until bound).
bool redis_ping(const std::string& host, int port) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  timeval tv{2, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const sockaddr_in addr = address_of(host, port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return false;
  const char ping[] = "*1\r\n$4\r\nPING\r\n";
  char reply[16] = {};
  return ::send(fd.get(), ping, sizeof ping - 1, MSG_NOSIGNAL) ==
             static_cast<ssize_t>(sizeof ping - 1) &&
         ::recv(fd.get(), reply, 7, MSG_WAITALL) == 7 && std::string(reply, 7) == "+PONG\r\n";
}

bool interface_exists(const std::string& name) {
  return fs::exists(fs::path("/sys/class/net") / name);
}

// Whether a rule with `comment` is anywhere in the namespace's tables (false if it is gone).
bool namespace_has_rule(const std::string& ns, const std::string& comment) {
  const std::string command = "'" + tool_path("ip") + "' netns exec " + ns + " '" +
                              tool_path("iptables") + "' -w -S 2>/dev/null | grep -q -- '" +
                              comment + "'";
  return std::system(command.c_str()) == 0;
}

Child start_redis(Supervisor& supervisor, const NetworkNamespace& ns, const fs::path& dir) {
  return supervisor.spawn(
      {ns.exec_argv({tool_path("redis-server"), "--bind", ns.namespace_address(), "--port",
                     std::to_string(kRedisPort), "--save", "", "--appendonly", "no",
                     "--protected-mode", "no", "--dir", dir.string()}),
       {},
       {},
       dir / "redis.out",
       dir / "redis.err"});
}

// redis-server in a namespace of its own, answering through the veth.
struct RedisInNamespace : ::testing::Test {
  void SetUp() override {
    SKIP_UNLESS_NETNS_WORKS();
    ns.emplace(run);
    ASSERT_TRUE(ns->exists());
    ASSERT_TRUE(interface_exists(ns->host_interface()));
    redis.emplace(start_redis(supervisor, *ns, tmp.path()));
    ASSERT_TRUE(answers_within_bound())
        << "redis-server in " << ns->name() << " did not answer through the veth";
  }
  bool answers() const { return redis_ping(ns->namespace_address(), kRedisPort); }
  bool answers_within_bound() const {
    return testing::wait_until([&] { return answers(); }, seconds(30));
  }
  // A blocking TCP connection from the host to the service.
  UniqueFd connect_to_service() const {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in addr = address_of(ns->namespace_address(), kRedisPort);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return {};
    return fd;
  }

  RunDirectory& run = testing::test_run_directory();
  testing::TempDir tmp;
  std::optional<NetworkNamespace> ns;
  Supervisor supervisor{run};
  std::optional<Child> redis;
};

TEST_F(RedisInNamespace, CutDropsSilentlyAndHealRestoresTheService) {
  NetworkNamespace& ns = *this->ns;

  NetnsPartition partition(run, ns);
  partition.cut();
  EXPECT_TRUE(partition.is_cut());
  EXPECT_TRUE(partition.rules_present());
  EXPECT_EQ(read_heal_records(run.path()).back().description.find("heal network partition"), 0u)
      << "the heal action is registered while the fault is applied";

  // A connection attempt gets no answer at all: no RST, no ICMP; the SYNs are counted as dropped.
  {
    const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd);
    const sockaddr_in addr = address_of(ns.namespace_address(), kRedisPort);
    const int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    ASSERT_TRUE(rc < 0 && errno == EINPROGRESS) << std::strerror(errno);
    ASSERT_TRUE(testing::wait_until([&] { return partition.dropped_packets() > 0; }, seconds(30)))
        << "no packet reached the DROP rules";
    pollfd p{fd.get(), POLLOUT, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0) << "the connection must neither complete nor be refused";
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    EXPECT_EQ(err, 0) << "a dropped packet gives no error: " << std::strerror(err);
  }

  partition.heal();
  EXPECT_FALSE(partition.is_cut());
  EXPECT_FALSE(partition.rules_present());
  EXPECT_FALSE(namespace_has_rule(ns.name(), partition.comment()));
  EXPECT_TRUE(answers_within_bound()) << "redis-server did not answer after the heal";
  partition.heal();  // idempotent

  redis->terminate();
  const std::string name = ns.name();
  const std::string host_if = ns.host_interface();
  ns.destroy();
  EXPECT_FALSE(fs::exists(fs::path("/run/netns") / name));
  EXPECT_FALSE(interface_exists(host_if)) << "the veth pair goes with the namespace";
  for (const auto& heal : read_heal_records(run.path())) {
    EXPECT_EQ(heal.description.find(name), std::string::npos) << heal.description;
  }
}

// Across a cut nothing answers, so a blocked reader would wait out TCP's retransmissions:
// abort_host_connections() ends the host's side at once, as TCP would once it gave up, and leaves
// the service (inside the namespace) alone.
TEST_F(RedisInNamespace, AbortHostConnectionsEndsTheHostsSocketsAcrossTheCut) {
  NetnsPartition partition(run, *ns);
  {
    const UniqueFd fd = connect_to_service();
    ASSERT_TRUE(fd);
    EXPECT_EQ(partition.abort_host_connections(), 1u) << "the open connection, before any cut";
    char byte = 0;
    EXPECT_LT(::recv(fd.get(), &byte, 1, 0), 1) << "the aborted socket still reads";
  }
  const UniqueFd fd = connect_to_service();
  ASSERT_TRUE(fd);
  partition.cut();
  const char ping[] = "*1\r\n$4\r\nPING\r\n";
  ASSERT_EQ(::send(fd.get(), ping, sizeof ping - 1, MSG_NOSIGNAL),
            static_cast<ssize_t>(sizeof ping - 1));
  EXPECT_TRUE(testing::wait_until([&] { return partition.dropped_packets() > 0; }, seconds(30)))
      << "the PING was not dropped";
  EXPECT_EQ(partition.abort_host_connections(), 1u);
  pollfd p{fd.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 1) << "the blocked reader is woken at once";
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  EXPECT_EQ(err, ECONNABORTED) << std::strerror(err);
  EXPECT_EQ(partition.abort_host_connections(), 0u) << "nothing left to abort";
  partition.heal();
  EXPECT_TRUE(answers_within_bound()) << "the service itself was touched";
}

// The fault's own heal action, run by the watchdog: the namespace (the test's) stays, the rules
// (the killed process's) go, and the service answers again.
TEST_F(RedisInNamespace, WatchdogHealsTheCutOfAKilledHolder) {
  NetworkNamespace& ns = *this->ns;
  const fs::path root = tmp.path() / "runs";
  const Holder holder = fork_holder([&] {
    static RunDirectory* own = nullptr;  // lives until the kill
    own = new RunDirectory(RunDirectory::create("netns-holder", {.root = root}));
    auto* partition = new NetnsPartition(*own, ns);
    partition->cut();
    return "ok " + partition->comment();
  });
  std::istringstream report(holder.report);
  std::string ok, comment;
  report >> ok >> comment;
  ASSERT_EQ(ok, "ok") << holder.report;
  ASSERT_TRUE(namespace_has_rule(ns.name(), comment));
  EXPECT_FALSE(answers()) << "the cut is in place";

  kill_holder(holder);
  EXPECT_TRUE(
      testing::wait_until([&] { return !namespace_has_rule(ns.name(), comment); }, seconds(30)))
      << "the watchdog left the DROP rules";
  EXPECT_TRUE(ns.exists()) << "the namespace was the test's, not the holder's";
  EXPECT_TRUE(answers_within_bound());
  EXPECT_TRUE(testing::wait_until([&] { return fs::is_empty(root); }, seconds(30)))
      << "the holder's run directory was left behind";
}

// Namespace, veth and cut all made by a holder without a watchdog: after the SIGKILL,
// `faultline reap` (reap_dead_runs) removes the rules, the namespace and the veth.
TEST(NetnsPartition, ReaperRemovesNamespaceVethAndRulesOfAKilledHolder) {
  SKIP_UNLESS_NETNS_WORKS();
  testing::TempDir tmp;
  const fs::path root = tmp.path() / "runs";
  const Holder holder = fork_holder([&] {
    static RunDirectory* own = nullptr;
    own = new RunDirectory(RunDirectory::create("netns-holder", {.root = root, .watchdog = false}));
    auto* ns = new NetworkNamespace(*own);
    auto* partition = new NetnsPartition(*own, *ns);
    partition->cut();
    return "ok " + ns->name() + " " + ns->host_interface() + " " + partition->comment();
  });
  std::istringstream report(holder.report);
  std::string ok, name, host_if, comment;
  report >> ok >> name >> host_if >> comment;
  ASSERT_EQ(ok, "ok") << holder.report;
  ASSERT_TRUE(fs::exists(fs::path("/run/netns") / name));
  ASSERT_TRUE(interface_exists(host_if));
  ASSERT_TRUE(namespace_has_rule(name, comment));

  kill_holder(holder);
  EXPECT_TRUE(fs::exists(fs::path("/run/netns") / name)) << "nothing heals without a watchdog";
  const auto reaped = reap_dead_runs(root);
  ASSERT_EQ(reaped.size(), 1u);
  EXPECT_TRUE(reaped[0].all_healed()) << describe(reaped[0]);
  EXPECT_TRUE(reaped[0].removed);
  ASSERT_EQ(reaped[0].heals.size(), 2u);
  EXPECT_NE(reaped[0].heals[0].heal.description.find("partition"), std::string::npos)
      << "the cut is healed first (newest first)";
  EXPECT_FALSE(fs::exists(fs::path("/run/netns") / name));
  EXPECT_FALSE(interface_exists(host_if));
}

}  // namespace
}  // namespace faultline::netns
