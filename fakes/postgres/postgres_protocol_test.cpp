// The PostgreSQL fake under bad input (garbage, oversized and truncated messages, abrupt closes)
// and with psql as the client.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fakes/postgres/fake_test_support.h"
#include "fakes/postgres/wire.h"
#include "harness/core/supervisor.h"

namespace faultline::pg::testing {
namespace {

using namespace std::chrono_literals;

class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  void send(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may have closed already
      off += static_cast<std::size_t>(n);
    }
  }
  // Reads until the server closes (true) or 20 s pass (false).
  bool read_until_closed(std::string& out) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return false;
  }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string startup(const std::string& user = "postgres") {
  MessageWriter w;
  std::string body;
  MessageWriter b;
  b.int32(static_cast<std::int32_t>(kProtocolVersion3)).cstring("user").cstring(user).cstring("");
  body = b.take();
  MessageWriter len;
  len.int32(static_cast<std::int32_t>(body.size() + 4));
  return len.take() + body;
}

std::string typed(char type, const std::string& body) {
  MessageWriter w;
  w.begin(type).bytes(body).finish();
  return w.take();
}

void expect_still_serving(FakePostgresTest& t, const std::string& conninfo) {
  (void)t;
  pqxx::connection c(conninfo);
  EXPECT_EQ(pqxx::nontransaction(c).exec("SELECT 1")[0][0].as<int>(), 1);
}

TEST_F(FakePostgresTest, GarbageStartupIsRefusedAndOthersUnaffected) {
  pqxx::connection bystander(conninfo());
  RawClient garbage(fake_->port());
  ASSERT_TRUE(garbage.connected());
  garbage.send(std::string("\xff\xff\xff\xff garbage garbage", 20));
  std::string reply;
  EXPECT_TRUE(garbage.read_until_closed(reply));
  EXPECT_NE(reply.find("08P01"), std::string::npos);
  EXPECT_EQ(pqxx::nontransaction(bystander).exec("SELECT 1").size(), 1u);
}

TEST_F(FakePostgresTest, SslRequestIsAnsweredN) {
  RawClient c(fake_->port());
  MessageWriter w;
  w.int32(8).int32(static_cast<std::int32_t>(kSslRequestCode));
  c.send(w.take());
  c.send(startup());
  c.send(typed('X', ""));
  std::string reply;
  EXPECT_TRUE(c.read_until_closed(reply));
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply[0], 'N');
  EXPECT_NE(reply.find("server_version"), std::string::npos);
}

TEST_F(FakePostgresTest, OversizedMessageIsFatal08P01) {
  RawClient c(fake_->port());
  c.send(startup());
  MessageWriter w;
  w.byte('Q').int32(0x7ffffff0);  // claims ~2 GiB
  c.send(w.take());
  std::string reply;
  EXPECT_TRUE(c.read_until_closed(reply));
  EXPECT_NE(reply.find("invalid message length"), std::string::npos);
  expect_still_serving(*this, conninfo());
}

TEST_F(FakePostgresTest, UnknownMessageTypeAndTruncatedFieldsAreFatal) {
  for (const std::string& bad :
       {typed('!', "x"), typed('P', "no terminator"), typed('B', std::string("\0\0\xff\xff", 4))}) {
    RawClient c(fake_->port());
    c.send(startup());
    c.send(bad);
    std::string reply;
    EXPECT_TRUE(c.read_until_closed(reply));
    EXPECT_NE(reply.find("08P01"), std::string::npos) << reply;
  }
  expect_still_serving(*this, conninfo());
}

TEST_F(FakePostgresTest, AbruptClosesMidMessageAndMidTransactionLeaveNothingBehind) {
  {
    pqxx::connection c(conninfo());
    pqxx::nontransaction(c).exec("CREATE TABLE t (id int PRIMARY KEY)");
  }
  for (int i = 0; i < 20; ++i) {
    RawClient c(fake_->port());
    c.send(startup());
    c.send(typed(
        'Q', "BEGIN; INSERT INTO t VALUES (" + std::to_string(i) + ");" + std::string(1, '\0')));
    std::string q = typed('Q', "SELECT 1;");
    c.send(q.substr(0, static_cast<std::size_t>(i % 7)));  // half a message
    c.close();
  }
  ASSERT_TRUE(wait_until([&] { return fake_->connection_count() == 0; }));
  pqxx::connection c(conninfo());
  EXPECT_EQ(pqxx::nontransaction(c).exec("SELECT count(*) FROM t")[0][0].as<int>(), 0);
}

TEST_F(FakePostgresTest, PipelinedFloodIsAnsweredInOrder) {
  RawClient c(fake_->port());
  c.send(startup());
  std::string flood;
  for (int i = 0; i < 500; ++i)
    flood += typed('Q', "SELECT " + std::to_string(i) + std::string(1, '\0'));
  flood += typed('X', "");
  c.send(flood);
  std::string reply;
  EXPECT_TRUE(c.read_until_closed(reply));
  std::size_t ready = 0;
  for (std::size_t pos = 0; (pos = reply.find("Z\0\0\0\5I", pos, 6)) != std::string::npos; ++pos)
    ++ready;
  EXPECT_EQ(ready, 501u);  // one after startup, one per query
}

TEST_F(FakePostgresTest, PsqlWorksAgainstTheFake) {
  const char* psql = "/usr/bin/psql";
  if (!std::filesystem::exists(psql)) GTEST_SKIP() << "psql is not installed";
  auto run = RunDirectory::create("pg-psql-test");
  Supervisor supervisor(run);
  const auto out = run.path() / "psql.out";
  Child child = supervisor.spawn(ProcessSpec{{psql, "-X",
                                              "-A", "-t",
                                              "-h", "127.0.0.1",
                                              "-p", std::to_string(fake_->port()),
                                              "-U", "postgres",
                                              "-d", "postgres",
                                              "-v", "ON_ERROR_STOP=1",
                                              "-c", "CREATE TABLE p (id int PRIMARY KEY, s text)",
                                              "-c", "INSERT INTO p VALUES (1, 'x')",
                                              "-c", "SELECT id, s FROM p"},
                                             {{"PGCONNECT_TIMEOUT", "5"}},
                                             {},
                                             out,
                                             out});
  ASSERT_TRUE(wait_for_exit(child.pid(), 20000ms));
  const ExitStatus status = child.wait();
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(status.success()) << text;
  EXPECT_NE(text.find("1|x"), std::string::npos) << text;
}

}  // namespace
}  // namespace faultline::pg::testing
