// The fault proxy in front of real servers started by the test: redis-server (hiredis, redis-cli)
// and PostgreSQL 15 (libpqxx, psql). Asserts behaviour — order, data, errors — never durations,
// except the lower bound a latency toxic guarantees (a reply cannot come sooner than the delay).
// Skips, with the reason, where a server binary is missing.
#include <chrono>
#include <memory>
#include <optional>

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <pqxx/pqxx>

#include "chaos/proxy/proxy_server.h"
#include "chaos/proxy/run_command.h"
#include "fakes/postgres/testing/real_postgres.h"
#include "fakes/redis/testing/real_redis.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"

namespace faultline::proxy {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using nlohmann::json;

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("proxy_local_test");

struct RedisReply {
  std::unique_ptr<redisReply, void (*)(void*)> reply{nullptr, freeReplyObject};
  int err = 0;
  std::string errstr;
};

struct Redis {
  explicit Redis(std::uint16_t port, std::chrono::milliseconds timeout = 20s) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ctx = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (ctx != nullptr && ctx->err == 0) redisSetTimeout(ctx, tv);
  }
  ~Redis() {
    if (ctx != nullptr) redisFree(ctx);
  }
  bool connected() const { return ctx != nullptr && ctx->err == 0; }
  RedisReply command(const char* fmt, const char* arg = nullptr) {
    RedisReply r;
    r.reply.reset(static_cast<redisReply*>(redisCommand(ctx, fmt, arg)));
    if (!r.reply) {
      r.err = ctx->err;
      r.errstr = ctx->errstr;
    }
    return r;
  }
  redisContext* ctx = nullptr;
};

struct RedisProxyTest : ::testing::Test {
  void SetUp() override {
    if (const auto why = faultline::testing::RealRedis::unavailable()) GTEST_SKIP() << *why;
    redis.emplace(faultline::testing::test_run_directory());
    server.emplace(loop, clock, faultline::testing::test_rng());
    proxy = server->add_proxy(
        {"redis", "127.0.0.1:0", "127.0.0.1:" + std::to_string(redis->port()), true});
  }
  ToxicHandle toxic(const json& body) {
    return server->add_toxic("redis", ToxicSpec::from_json(body));
  }

  RealClock clock;
  EventLoop loop;
  std::optional<faultline::testing::RealRedis> redis;
  std::optional<ProxyServer> server;
  ProxyHandle proxy;
};

TEST_F(RedisProxyTest, PassesCommandsThroughUnchanged) {
  Redis c(proxy.port());
  ASSERT_TRUE(c.connected());
  const std::string big(300'000, 'v');
  EXPECT_EQ(c.command("SET k %s", big.c_str()).reply->type, REDIS_REPLY_STATUS);
  auto got = c.command("GET k");
  ASSERT_TRUE(got.reply);
  EXPECT_EQ(std::string(got.reply->str, got.reply->len), big);
  const auto cli = run_command(faultline::testing::test_run_directory(), redis->dir(),
                               {"redis-cli", "-p", std::to_string(proxy.port()), "STRLEN", "k"});
  EXPECT_TRUE(cli.status.success()) << cli.err;
  EXPECT_EQ(cli.out, "300000\n");
}

TEST_F(RedisProxyTest, LatencyDelaysTheReplyByAtLeastTheLatency) {
  Redis c(proxy.port());
  ASSERT_TRUE(c.connected());
  auto t = toxic({{"type", "latency"}, {"attributes", {{"latency", 200}}}});
  const auto start = std::chrono::steady_clock::now();
  auto r = c.command("PING");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.reply) << r.errstr;
  EXPECT_STREQ(r.reply->str, "PONG");
  EXPECT_GE(took, 200ms);  // the toxic's guarantee, not a timing of ours
}

TEST_F(RedisProxyTest, ResetPeerGivesTheClientAConnectionReset) {
  Redis c(proxy.port());
  ASSERT_TRUE(c.connected());
  auto t =
      toxic({{"type", "reset_peer"}, {"stream", "upstream"}, {"attributes", {{"timeout", 0}}}});
  auto r = c.command("PING");
  EXPECT_FALSE(r.reply);
  EXPECT_EQ(r.err, REDIS_ERR_IO) << r.errstr;
  EXPECT_NE(r.errstr.find("reset"), std::string::npos) << r.errstr;
  const auto cli = run_command(faultline::testing::test_run_directory(), redis->dir(),
                               {"redis-cli", "-p", std::to_string(proxy.port()), "PING"});
  EXPECT_NE((cli.out + cli.err).find("reset"), std::string::npos) << cli.out << cli.err;
}

TEST_F(RedisProxyTest, TimeoutMakesTheClientTimeOutThenCloses) {
  {
    Redis c(proxy.port(), 300ms);
    ASSERT_TRUE(c.connected());
    auto t = toxic({{"type", "timeout"}, {"attributes", {{"timeout", 0}}}});
    auto r = c.command("PING");
    EXPECT_FALSE(r.reply);
    EXPECT_EQ(r.err, REDIS_ERR_IO) << r.errstr;  // the client's own read timeout
  }
  auto t = toxic({{"type", "timeout"}, {"name", "closer"}, {"attributes", {{"timeout", 100}}}});
  Redis c(proxy.port());
  ASSERT_TRUE(c.connected());
  auto r = c.command("PING");
  EXPECT_FALSE(r.reply);
  EXPECT_EQ(r.err, REDIS_ERR_EOF) << r.errstr;  // the proxy closed it after the timeout
}

TEST_F(RedisProxyTest, BlackholeTimesOutAndTheNextRequestSucceedsAfterHeal) {
  std::optional<ToxicHandle> partition;
  partition.emplace(toxic({{"type", "blackhole"}}));
  {
    Redis c(proxy.port(), 300ms);
    ASSERT_TRUE(c.connected());  // the connection itself is accepted: a partition, not a refusal
    auto r = c.command("PING");
    EXPECT_FALSE(r.reply);
    EXPECT_EQ(r.err, REDIS_ERR_IO) << r.errstr;
  }
  partition.reset();  // heal
  Redis c(proxy.port());
  auto r = c.command("PING");
  ASSERT_TRUE(r.reply) << r.errstr;
  EXPECT_STREQ(r.reply->str, "PONG");
}

TEST_F(RedisProxyTest, LimitDataCutsTheStreamExactlyWhereItSays) {
  {
    Redis c(proxy.port());
    c.command("SET k %s", std::string(1000, 'x').c_str());
  }
  auto t = toxic({{"type", "limit_data"}, {"attributes", {{"bytes", 100}}}});
  Fd raw = connect_local(proxy.port());
  send_all(raw.get(), "GET k\r\n");
  const ReadResult r = read_until(raw.get(), SIZE_MAX);
  EXPECT_TRUE(r.eof);
  EXPECT_EQ(r.data, ("$1000\r\n" + std::string(1000, 'x')).substr(0, 100));
}

TEST_F(RedisProxyTest, RejectFirstFailsExactlyNConnections) {
  auto t = toxic({{"type", "reject_first"}, {"attributes", {{"count", 2}}}});
  int failed = 0;
  for (int i = 0; i < 5; ++i) {
    Redis c(proxy.port());
    auto r = c.connected() ? c.command("PING") : RedisReply{};
    if (r.reply && std::string(r.reply->str) == "PONG") continue;
    ++failed;
  }
  EXPECT_EQ(failed, 2);
}

TEST_F(RedisProxyTest, DownRefusesConnectionsUntilHealed) {
  auto down = server->take_down("redis");
  Redis refused(proxy.port());
  EXPECT_FALSE(refused.connected());
  EXPECT_NE(std::string(refused.ctx->errstr).find("refused"), std::string::npos);
  down.heal();
  Redis c(proxy.port());
  auto r = c.command("PING");
  ASSERT_TRUE(r.reply);
}

// libpq's connection string for the `postgres` database through the proxy at `port`.
std::string conninfo(std::uint16_t port) {
  return "host=127.0.0.1 port=" + std::to_string(port) +
         " user=postgres dbname=postgres connect_timeout=10";
}

struct PostgresProxyTest : ::testing::Test {
  void SetUp() override {
    if (const auto why = faultline::testing::RealPostgres::unavailable()) GTEST_SKIP() << *why;
    pg.emplace(faultline::testing::test_run_directory());
    server.emplace(loop, clock, faultline::testing::test_rng());
    proxy =
        server->add_proxy({"pg", "127.0.0.1:0", "127.0.0.1:" + std::to_string(pg->port()), true});
  }
  void TearDown() override {
    proxy.remove();
    server.reset();
    pg.reset();
  }

  RealClock clock;
  EventLoop loop;
  std::optional<faultline::testing::RealPostgres> pg;
  std::optional<ProxyServer> server;
  ProxyHandle proxy;
};

TEST_F(PostgresProxyTest, QueriesThroughTheProxyWithLatencyAndReset) {
  pqxx::connection conn(conninfo(proxy.port()));
  {
    pqxx::work tx(conn);
    EXPECT_EQ(tx.exec1("SELECT 41 + 1")[0].as<int>(), 42);
  }
  {
    auto t = server->add_toxic(
        "pg", ToxicSpec::from_json({{"type", "latency"}, {"attributes", {{"latency", 200}}}}));
    const auto start = std::chrono::steady_clock::now();
    pqxx::work tx(conn);
    EXPECT_EQ(tx.exec1("SELECT 'slow'")[0].as<std::string>(), "slow");
    EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
    tx.commit();
  }
  const auto psql = run_command(faultline::testing::test_run_directory(),
                                faultline::testing::test_run_directory().path(),
                                {"psql", "-h", "127.0.0.1", "-p", std::to_string(proxy.port()),
                                 "-U", "postgres", "-d", "postgres", "-tAc", "SELECT 7 * 6"});
  EXPECT_TRUE(psql.status.success()) << psql.err;
  EXPECT_EQ(psql.out, "42\n");
  // The reset goes through libpq itself: libpqxx 6.4 leaks a result on a broken connection.
  PGconn* raw = PQconnectdb(conninfo(proxy.port()).c_str());
  ASSERT_EQ(PQstatus(raw), CONNECTION_OK) << PQerrorMessage(raw);
  auto reset = server->add_toxic("pg", ToxicSpec::from_json({{"type", "reset_peer"},
                                                             {"stream", "upstream"},
                                                             {"attributes", {{"timeout", 0}}}}));
  PGresult* result = PQexec(raw, "SELECT 1");
  EXPECT_NE(PQresultStatus(result), PGRES_TUPLES_OK);
  EXPECT_EQ(PQstatus(raw), CONNECTION_BAD);
  // (libpq words a reset as "server closed the connection unexpectedly".)
  PQclear(result);
  PQfinish(raw);
}

TEST_F(PostgresProxyTest, DownRefusesPsql) {
  auto down = server->take_down("pg");
  const auto psql = run_command(faultline::testing::test_run_directory(),
                                faultline::testing::test_run_directory().path(),
                                {"psql", "-h", "127.0.0.1", "-p", std::to_string(proxy.port()),
                                 "-U", "postgres", "-d", "postgres", "-tAc", "SELECT 1"});
  EXPECT_FALSE(psql.status.success());
  EXPECT_NE(psql.err.find("refused"), std::string::npos) << psql.err;
  down.heal();
  pqxx::connection conn(conninfo(proxy.port()));
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec1("SELECT 1")[0].as<int>(), 1);
}

}  // namespace
}  // namespace faultline::proxy
