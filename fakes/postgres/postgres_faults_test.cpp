// The PostgreSQL fake's fault controls, each seen by a libpqxx client, and the HTTP endpoint.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include <libpq-fe.h>

#include "fakes/postgres/control_server.h"
#include "fakes/postgres/fake_test_support.h"

namespace faultline::pg::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(FakePostgresTest, MaxConnectionsRefusesWith53300) {
  fake_->set_max_connections(1);
  pqxx::connection first(conninfo());
  const std::string refused = outcome([&] { pqxx::connection second(conninfo()); });
  EXPECT_NE(refused.find("sorry, too many clients already"), std::string::npos) << refused;
  fake_->reset_max_connections();
  pqxx::connection second(conninfo());
  EXPECT_EQ(pqxx::nontransaction(second).exec("SELECT 1").size(), 1u);
}

// The sessions the fault kills are driven through libpq directly: libpqxx 6.4 leaks a PGresult
// when a query meets a connection the server has dropped, which LeakSanitizer would report.
bool query_fails(PGconn* conn, const char* sql) {
  PGresult* r = PQexec(conn, sql);
  const bool failed = PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK;
  PQclear(r);
  return failed;
}

TEST_F(FakePostgresTest, CrashDropsConnectionsLosesUncommittedKeepsCommitted) {
  pqxx::connection c(conninfo());
  pqxx::nontransaction(c).exec("CREATE TABLE t (id int PRIMARY KEY)");
  pqxx::nontransaction(c).exec("INSERT INTO t VALUES (1)");
  PGconn* open = PQconnectdb(conninfo().c_str());
  ASSERT_EQ(PQstatus(open), CONNECTION_OK);
  ASSERT_FALSE(query_fails(open, "BEGIN"));
  ASSERT_FALSE(query_fails(open, "INSERT INTO t VALUES (2)"));
  fake_->crash(30s);
  EXPECT_TRUE(query_fails(open, "SELECT 1"));
  PQfinish(open);
  EXPECT_NE(outcome([&] { pqxx::connection again(conninfo()); }).find("broken"), std::string::npos);
  clock_.advance(30s);
  ASSERT_TRUE(wait_until([&] { return fake_->status()["listening"].get<bool>(); }));
  pqxx::connection after(conninfo());
  auto r = pqxx::nontransaction(after).exec("SELECT id FROM t");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0][0].as<int>(), 1);
}

TEST_F(FakePostgresTest, AdminShutdownSendsFatal57P01) {
  PGconn* conn = PQconnectdb(conninfo().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK);
  fake_->admin_shutdown();
  EXPECT_TRUE(query_fails(conn, "SELECT 1"));
  PQfinish(conn);
  EXPECT_TRUE(wait_until([&] { return fake_->session_count() == 0; }));
  pqxx::connection again(conninfo());  // refuse_for 0: sessions terminated, server still up
  EXPECT_EQ(pqxx::nontransaction(again).exec("SELECT 1").size(), 1u);
}

TEST_F(FakePostgresTest, AdminShutdownMessageReachesAnIdleClient) {
  // libpq reads the FATAL at the next exchange; the text must be the server's.
  PGconn* conn = PQconnectdb(conninfo().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  fake_->admin_shutdown(10s);
  PGresult* result = PQexec(conn, "SELECT 1");
  const std::string message = PQerrorMessage(conn);
  PQclear(result);
  PQfinish(conn);
  EXPECT_NE(message.find("terminating connection due to administrator command"), std::string::npos)
      << message;
  EXPECT_NE(outcome([&] { pqxx::connection again(conninfo()); }).find("broken"), std::string::npos);
  clock_.advance(10s);
  ASSERT_TRUE(wait_until([&] { return fake_->status()["listening"].get<bool>(); }));
  pqxx::connection again(conninfo());
}

TEST_F(FakePostgresTest, ReadOnlyRefusesWritesWith25006) {
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  tx.exec("CREATE TABLE t (id int)");
  fake_->set_read_only(true);
  EXPECT_EQ(outcome([&] { tx.exec("INSERT INTO t VALUES (1)"); }), "25006");
  EXPECT_EQ(outcome([&] { tx.exec("SELECT * FROM t"); }), "ok");
  fake_->set_read_only(false);
  EXPECT_EQ(outcome([&] { tx.exec("INSERT INTO t VALUES (1)"); }), "ok");
}

TEST_F(FakePostgresTest, SlowQueryWaitsOnTheClockAndCancelGives57014) {
  pqxx::connection c(conninfo());
  const auto rule = fake_->add_slow_query("from\\s+slow_table|pg_sleep", 5s);
  pqxx::nontransaction(c).exec("CREATE TABLE slow_table (id int)");
  auto slow = std::async(std::launch::async, [&] {
    return outcome([&] { pqxx::nontransaction(c).exec("SELECT * FROM slow_table"); });
  });
  ASSERT_TRUE(wait_until([&] { return clock_.pending() > 0; }));
  clock_.advance(5s);
  EXPECT_EQ(slow.get(), "ok");
  auto cancelled = std::async(std::launch::async, [&] {
    return outcome([&] { pqxx::nontransaction(c).exec("SELECT * FROM slow_table"); });
  });
  ASSERT_TRUE(wait_until([&] { return clock_.pending() > 0; }));
  c.cancel_query();
  EXPECT_EQ(cancelled.get(), "57014");
  EXPECT_TRUE(fake_->remove_query_rule(rule));
  EXPECT_EQ(outcome([&] { pqxx::nontransaction(c).exec("SELECT * FROM slow_table"); }), "ok");
}

TEST_F(FakePostgresTest, ErrorsByPattern) {
  pqxx::connection c(conninfo());
  fake_->add_query_error("^\\s*insert", "40001", "could not serialize access");
  pqxx::nontransaction tx(c);
  tx.exec("CREATE TABLE t (id int)");
  EXPECT_EQ(outcome([&] { tx.exec("INSERT INTO t VALUES (1)"); }), "40001");
  EXPECT_EQ(outcome([&] { tx.exec("SELECT 1"); }), "ok");
  fake_->heal_all();
  EXPECT_EQ(outcome([&] { tx.exec("INSERT INTO t VALUES (1)"); }), "ok");
  EXPECT_THROW(fake_->add_query_error("(", "40001", "x"), InputError);
}

TEST_F(FakePostgresTest, RefuseConnections) {
  pqxx::connection open(conninfo());
  fake_->set_refuse_connections(true);
  EXPECT_NE(outcome([&] { pqxx::connection c(conninfo()); }).find("broken"), std::string::npos);
  EXPECT_EQ(pqxx::nontransaction(open).exec("SELECT 1").size(), 1u);  // existing sessions live on
  fake_->set_refuse_connections(false);
  pqxx::connection c(conninfo());
}

// A minimal HTTP/1.0 client for the loopback control endpoint.
std::string http(std::uint16_t port, const std::string& method, const std::string& target,
                 const std::string& body = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  const std::string request = method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  if (::write(fd, request.data(), request.size()) < 0) return "write failed";
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}

TEST_F(FakePostgresTest, HttpControlEndpoint) {
  ControlServer control(loop_, *fake_);
  control.start();
  const auto port = control.port();
  EXPECT_NE(http(port, "GET", "/status").find("\"listening\":true"), std::string::npos);
  EXPECT_NE(http(port, "PUT", "/faults/read_only").find("200 OK"), std::string::npos);
  pqxx::connection c(conninfo());
  pqxx::nontransaction tx(c);
  EXPECT_EQ(outcome([&] { tx.exec("CREATE TABLE t (id int)"); }), "25006");
  http(port, "DELETE", "/faults/read_only");
  tx.exec("CREATE TABLE t (id int)");
  const std::string added =
      http(port, "POST", "/faults/query_errors",
           R"({"pattern": "from t", "sqlstate": "57014", "message": "boom"})");
  EXPECT_NE(added.find("\"id\""), std::string::npos) << added;
  EXPECT_EQ(outcome([&] { tx.exec("SELECT * FROM t"); }), "57014");
  EXPECT_NE(http(port, "DELETE", "/faults").find("200 OK"), std::string::npos);
  EXPECT_EQ(outcome([&] { tx.exec("SELECT * FROM t"); }), "ok");
  EXPECT_NE(http(port, "PUT", "/faults/max_connections", "{\"limit\": \"x\"}").find("400"),
            std::string::npos);
  EXPECT_NE(http(port, "POST", "/faults/slow_queries", "not json").find("400"), std::string::npos);
  EXPECT_NE(http(port, "GET", "/nope").find("404"), std::string::npos);
  EXPECT_NE(http(port, "GET", "/dump").find("CREATE TABLE t"), std::string::npos);
  EXPECT_NE(http(port, "POST", "/load", "CREATE TABLE u (a int);").find("200 OK"),
            std::string::npos);
  EXPECT_NE(http(port, "POST", "/load", "SELEC").find("42601"), std::string::npos);
  EXPECT_NE(http(port, "POST", "/actions/crash", "{\"refuse_ms\": 0}").find("200 OK"),
            std::string::npos);
  control.stop();
}

}  // namespace
}  // namespace faultline::pg::testing
