// REQ-INFRA-02 against a real PostgreSQL 15 on this machine (label local): the pool configured
// from DB_POOL_SIZE 10 / DB_MAX_OVERFLOW 20 / DB_POOL_TIMEOUT 30, held at its bound and never
// above it as pg_stat_activity counts, surviving pg_terminate_backend (57P01) and a real crash
// (a backend SIGKILLed: the postmaster kills every session, recovers and accepts again).
// Real time here (a RealClock): waits are bounded conditions, never asserted timings.
#include <signal.h>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/postgres/testing/real_postgres.h"
#include "harness/clients/postgres/database_manager.h"
#include "harness/core/clock.h"
#include "harness/core/log.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "suites/req_infra_02/local_test_support.h"
#include "suites/req_infra_02/pool_test_support.h"

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("req_infra_02_local");

namespace faultline::req_infra_02 {
namespace {

using clients::PooledConnection;
using testing::wait_until;

#define SKIP_WITHOUT_POSTGRES() \
  if (auto why = testing::RealPostgres::unavailable()) GTEST_SKIP() << *why;

TEST(PoolLocalTest, PoolIsEstablishedWithTheSeedsParametersFromTheEnvironment) {
  FAULTLINE_COVERS("UT-INFRA-02.1");
  SKIP_WITHOUT_POSTGRES();
  testing::RealPostgres pg(testing::test_run_directory());
  ScopedEnv env = seed_environment(pg.port());
  RealClock clock;
  clients::DatabaseManager manager(clients::PoolConfig::from_env(), clock);
  auto& pool = manager.create_connection_pool();
  pool.warm_up();
  const auto stats = pool.stats();
  EXPECT_EQ(stats.max_connections, 30);
  EXPECT_EQ(stats.connection_timeout, 30);
  EXPECT_EQ(stats.open_connections, 10);
  ServerMonitor monitor(pg.connection_string(), manager.config().name);
  EXPECT_EQ(monitor.sessions(), 10);
  const auto health = manager.health_check();
  EXPECT_TRUE(health.healthy) << health.error;
  EXPECT_EQ(health.server_version.substr(0, 2), "15");
}

TEST(PoolLocalTest, TerminatedBackendsAreDiscardedAndReplaced) {
  FAULTLINE_COVERS("ET-INFRA-02.1");
  SKIP_WITHOUT_POSTGRES();
  testing::RealPostgres pg(testing::test_run_directory());
  RealClock clock;
  auto config = small_pool(pg.connection_string(), 4, 0);
  auto pool = clients::create_connection_pool(config, clock);
  pool->warm_up();
  ServerMonitor monitor(pg.connection_string(), config.name);
  EXPECT_EQ(monitor.terminate_all(), 4);  // FATAL 57P01 to each pool session
  std::vector<PooledConnection> all;
  for (int i = 0; i < 4; ++i) {
    all.push_back(pool->acquire());
    EXPECT_TRUE(query_ok(*all.back()));
  }
  EXPECT_EQ(pool->stats().discarded_broken, 4u);
  EXPECT_EQ(monitor.sessions(), 4);
}

TEST(PoolLocalTest, ADatabaseCrashIsHandledAndThePoolReconnects) {
  FAULTLINE_COVERS("ET-INFRA-02.1");
  SKIP_WITHOUT_POSTGRES();
  testing::RealPostgres pg(testing::test_run_directory());
  RealClock clock;
  auto config = small_pool(pg.connection_string(), 3, 2);
  config.reconnect_backoff = 200ms;
  auto pool = clients::create_connection_pool(config, clock);
  pool->warm_up();
  auto held = pool->acquire();
  ServerMonitor monitor(pg.connection_string(), config.name);
  // SIGKILL a backend: the postmaster kills every session and recovers; the pool is used at once,
  // so its connects meet the recovering server (refused, or 57P03) and back off.
  ASSERT_TRUE(monitor.crash_server(false));
  EXPECT_TRUE(wait_until([&] { return !query_ok(*held); }, 30s)) << "the lent connection broke";
  held.mark_broken();
  held.release();
  // Callers see typed errors at worst, never a hang or a crash, and the pool gets through.
  int unavailable = 0;
  const bool back = wait_until(
      [&] {
        try {
          auto c = pool->acquire();
          return query_ok(*c);
        } catch (const clients::PoolUnavailable&) {
          ++unavailable;
          return false;
        }
      },
      60s);
  ASSERT_TRUE(back) << "the pool did not reconnect after the crash";
  const auto stats = pool->stats();
  EXPECT_GE(stats.discarded_broken, 2u);
  EXPECT_LE(stats.open_connections, 5);
  RecordProperty("connect_failures_during_recovery", std::to_string(stats.connect_failures));
  RecordProperty("acquires_unavailable_during_recovery", std::to_string(unavailable));
}

TEST(PoolLocalTest, OrderWriteWorkloadHoldsThePoolAtItsBoundAndItSurvivesACrash) {
  FAULTLINE_COVERS("IT-INFRA-02");
  SKIP_WITHOUT_POSTGRES();
  testing::RealPostgresOptions options;
  options.max_connections = 60;  // room above the bound, so only the pool limits it
  // RealPostgres turns synchronous_commit off for speed; a crash (shared memory reset) would
  // then lose the last commits, which is the server's setting, not the pool's doing.
  options.settings = {"synchronous_commit=on"};
  testing::RealPostgres pg(testing::test_run_directory(), options);
  ScopedEnv env = seed_environment(pg.port());
  RealClock clock;
  clients::DatabaseManager manager(clients::PoolConfig::from_env(), clock);
  auto& pool = manager.create_connection_pool();
  const int bound = pool.config().max_connections();
  ASSERT_EQ(bound, 30);
  {
    auto c = pool.acquire();
    pqxx::work tx(*c);
    tx.exec(
        "CREATE TABLE orders (writer int, seq int, qty int NOT NULL, "
        "PRIMARY KEY (writer, seq))");
    tx.commit();
  }
  ServerMonitor monitor(pg.connection_string(), pool.config().name);

  // 1. At the bound: 30 holders, the server counts exactly 30, a 31st caller times out.
  {
    std::vector<PooledConnection> held;
    for (int i = 0; i < bound; ++i) held.push_back(pool.acquire());
    EXPECT_EQ(monitor.sessions(), bound);
    EXPECT_EQ(pool.stats().available_connections, 0);
    EXPECT_THROW(pool.acquire(100ms), clients::PoolTimeout);
  }

  // 2. 40 writers contend for 30 connections while a sampler watches pg_stat_activity. Each
  // writes 10 orders, waits for the crash, then writes 15 more: the database is SIGKILLed with
  // the pool full of live connections, restarts, and the writers carry on through the pool.
  SessionSampler sampler(pg.connection_string(), pool);
  const int writers = 40;
  std::atomic<bool> crashed{false};
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int seq = 0; seq < 25; ++seq) {
        if (seq == 10) wait_until([&] { return crashed.load(); }, 60s);
        if (!write_order(pool, w, seq)) ++lost;
      }
    });
  }
  ASSERT_TRUE(wait_until([&] { return monitor.count_orders() == writers * 10; }, 60s));
  const auto before_crash = pool.stats();
  ASSERT_TRUE(monitor.crash_server(false));
  crashed = true;  // the writers go on at once, into the recovering server
  for (auto& t : threads) t.join();
  sampler.stop();

  EXPECT_EQ(lost.load(), 0) << "writes that never committed";
  EXPECT_EQ(monitor.count_orders(), writers * 25);
  const auto stats = pool.stats();
  EXPECT_LE(sampler.max_sessions(), bound) << "the server saw more pool sessions than the bound";
  EXPECT_LE(sampler.max_pool_open(), bound);
  EXPECT_GT(sampler.samples(), 0);
  EXPECT_GE(stats.discarded_broken, 1u) << "the crash broke pooled connections";
  EXPECT_GT(stats.opened, before_crash.opened) << "the pool opened new connections after it";
  RecordProperty("max_server_sessions", std::to_string(sampler.max_sessions()));
  RecordProperty("pool_waits", std::to_string(stats.waits));
  RecordProperty("pool_opened", std::to_string(stats.opened));
  RecordProperty("pool_connect_failures", std::to_string(stats.connect_failures));
}

}  // namespace
}  // namespace faultline::req_infra_02
