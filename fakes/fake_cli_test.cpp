// `faultline fake redis|postgres` run as a person runs them: the fake comes up on an ephemeral
// port and says where, a real client talks to it, and SIGTERM stops it cleanly.
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/testing/process_testing.h"

namespace faultline {
namespace {

using faultline::testing::read_file;
using faultline::testing::wait_until;

class FakeCli : public ::testing::Test {
 protected:
  // Starts `faultline fake <args>` and returns the port it reports on the line matching `re`.
  int start(const std::vector<std::string>& args, const std::regex& re) {
    run_.emplace(RunDirectory::create("fake_cli_test", {.root = tmp_.path()}));
    supervisor_.emplace(*run_);
    ProcessSpec spec;
    spec.argv = {FAULTLINE_BIN, "fake"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.stdout_path = tmp_.path() / "out";
    spec.stderr_path = tmp_.path() / "err";
    child_.emplace(supervisor_->spawn(spec));
    int port = 0;
    wait_until([&] {
      std::smatch m;
      const std::string out = read_file(spec.stdout_path);
      if (std::regex_search(out, m, re)) port = std::stoi(m[1]);
      return port != 0 || !child_->running();
    });
    return port;
  }
  // SIGTERM, then the exit status and everything it printed.
  std::pair<ExitStatus, std::string> stop() {
    child_->signal(SIGTERM);
    const ExitStatus status = child_->wait();
    return {status, read_file(tmp_.path() / "out") + read_file(tmp_.path() / "err")};
  }

  faultline::testing::TempDir tmp_;
  std::optional<RunDirectory> run_;
  std::optional<Supervisor> supervisor_;
  std::optional<Child> child_;
};

std::string roundtrip(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) reply.assign(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

TEST_F(FakeCli, RedisAnswersARealClientAndStopsOnSigterm) {
  const int port =
      start({"redis", "--port", "0"}, std::regex("listening on 127\\.0\\.0\\.1:(\\d+)"));
  ASSERT_GT(port, 0) << read_file(tmp_.path() / "err");
  EXPECT_EQ(roundtrip(port, "SET k v\r\n"), "+OK\r\n");
  EXPECT_EQ(roundtrip(port, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), "$1\r\nv\r\n");
  auto [status, output] = stop();
  EXPECT_TRUE(status.success()) << status.str() << "\n" << output;
  EXPECT_NE(output.find("stopped (SIGTERM)"), std::string::npos) << output;
}

TEST_F(FakeCli, PostgresAnswersLibpqAndStopsOnSigterm) {
  const int port =
      start({"postgres", "--port", "0"}, std::regex("listening on 127\\.0\\.0\\.1:(\\d+)"));
  ASSERT_GT(port, 0) << read_file(tmp_.path() / "err");
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* res = PQexec(conn, "SELECT 1");
  ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  EXPECT_STREQ(PQgetvalue(res, 0, 0), "1");
  PQclear(res);
  PQfinish(conn);
  auto [status, output] = stop();
  EXPECT_TRUE(status.success()) << status.str() << "\n" << output;
}

TEST_F(FakeCli, BadOptionsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"redis", "--port", "70000"}, {"postgres", "--port", "-1"}, {"mongo"}}) {
    start(args, std::regex("never printed (\\d+)"));
    auto [status, output] = stop();
    EXPECT_EQ(status.code, 2) << args[0] << ": " << output;
  }
}

}  // namespace
}  // namespace faultline
