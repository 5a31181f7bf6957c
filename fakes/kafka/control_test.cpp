// The control API (direct calls) and `faultline fake kafka` run as a person runs it: it prints its
// bootstrap string and control endpoint, answers kcat and HTTP, and stops on SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <regex>

#include "fakes/kafka/control_api.h"
#include "fakes/kafka/fake_kafka.h"
#include "harness/core/clock.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

namespace faultline::fakes::kafka {
namespace {

using faultline::testing::read_file;
using faultline::testing::test_run_directory;
using faultline::testing::wait_until;
using namespace std::chrono_literals;

TEST(KafkaControlApi, FaultsBrokersAndReportsTheCluster) {
  RealClock clock;
  FakeKafkaCluster kafka(clock);
  auto r = handle_control_request(kafka, "POST", "/topics",
                                  R"({"name":"t","partitions":3,"replication":2})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = handle_control_request(kafka, "POST", "/brokers/1/down", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["brokers_down"], nlohmann::json::array({1}));
  EXPECT_EQ(r.body["offline_partitions"], 0);
  EXPECT_EQ(r.body["under_replicated_partitions"], 2);
  for (const auto& p : r.body["topics"]["t"]["partitions"]) EXPECT_NE(p["leader"], 1);
  r = handle_control_request(kafka, "POST", "/errors",
                             R"({"api":"Produce","errors":["NOT_LEADER_FOR_PARTITION"]})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = handle_control_request(kafka, "POST", "/brokers/all/rtt", R"({"ms":20})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = handle_control_request(kafka, "POST", "/reset", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["brokers_down"], nlohmann::json::array());
  EXPECT_EQ(r.body["under_replicated_partitions"], 0);
  EXPECT_EQ(handle_control_request(kafka, "GET", "/health", "").body["bootstrap"],
            kafka.bootstrap());
}

TEST(KafkaControlApi, AnswersBadRequestsWithTheirReason) {
  RealClock clock;
  FakeKafkaCluster kafka(clock);
  EXPECT_EQ(handle_control_request(kafka, "POST", "/topics", "{not json").status, 400);
  EXPECT_EQ(handle_control_request(kafka, "POST", "/topics", "[1]").status, 400);
  EXPECT_EQ(handle_control_request(kafka, "POST", "/topics", R"({"name":"t"})").status, 400);
  EXPECT_EQ(handle_control_request(kafka, "GET", "/nowhere", "").status, 404);
  EXPECT_EQ(handle_control_request(kafka, "GET", "/brokers/1/down", "").status, 405);
  EXPECT_EQ(handle_control_request(kafka, "POST", "/brokers/9/down", "").status, 400);
  EXPECT_EQ(handle_control_request(kafka, "POST", "/brokers/x/down", "").status, 400);
  EXPECT_EQ(
      handle_control_request(kafka, "POST", "/topics/t/partitions/0/leader", R"({"broker":1})")
          .status,
      400);
  const auto r = handle_control_request(kafka, "POST", "/errors",
                                        R"({"api":"Fetsh","errors":["NOT_LEADER_FOR_PARTITION"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["error"].get<std::string>().find("did you mean 'Fetch'"), std::string::npos)
      << r.body;
  EXPECT_EQ(handle_control_request(kafka, "POST", "/errors",
                                   R"({"api":"Fetch","errors":["NO_SUCH_ERROR"]})")
                .status,
            400);
}

// One HTTP/1.0 request on a fresh connection; returns the whole response.
std::string http(int port, const std::string& method, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  const std::string request = method + " " + path + " HTTP/1.0\r\nContent-Length: 0\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

TEST(FakeKafkaCli, PrintsItsBootstrapTakesFaultsOverHttpAndStopsOnSigterm) {
  faultline::testing::TempDir tmp;
  Supervisor supervisor(test_run_directory());
  ProcessSpec spec;
  spec.argv = {FAULTLINE_BIN, "fake",    "kafka", "--brokers", "3",          "--topic",
               "t:2:2",       "--group", "g",     "--control", "127.0.0.1:0"};
  spec.stdout_path = tmp.path() / "out";
  spec.stderr_path = tmp.path() / "err";
  Child child = supervisor.spawn(spec);
  std::smatch bootstrap, control;
  std::string out;
  const std::regex bootstrap_re("bootstrap (127\\.0\\.0\\.1:\\d+(,127\\.0\\.0\\.1:\\d+){2})");
  const std::regex control_re("http://127\\.0\\.0\\.1:(\\d+)/cluster");
  ASSERT_TRUE(wait_until([&] {
    out = read_file(spec.stdout_path);
    return std::regex_search(out, control, control_re) || !child.running();
  })) << read_file(spec.stderr_path);
  ASSERT_TRUE(std::regex_search(out, bootstrap, bootstrap_re)) << out;
  ASSERT_TRUE(std::regex_search(out, control, control_re)) << out;
  const int port = std::stoi(control[1]);
  const std::string down = http(port, "POST", "/brokers/2/down");
  EXPECT_NE(down.find("200 OK"), std::string::npos) << down;
  EXPECT_NE(down.find("\"brokers_down\":[2]"), std::string::npos) << down;
  const std::string cluster = http(port, "GET", "/cluster");
  EXPECT_NE(cluster.find("\"groups\":{\"g\":"), std::string::npos) << cluster;
  EXPECT_NE(http(port, "GET", "/nope").find("404"), std::string::npos);
  child.signal(SIGTERM);
  ASSERT_TRUE(wait_until([&] { return !child.running(); }, 30s));
  const ExitStatus status = child.wait();
  EXPECT_TRUE(status.success()) << status.str() << read_file(spec.stderr_path);
  EXPECT_NE(read_file(spec.stdout_path).find("stopped (SIGTERM)"), std::string::npos);
}

}  // namespace
}  // namespace faultline::fakes::kafka
