// REQ-INFRA-02 against the PostgreSQL fake (label fake): the pool is created with its
// parameters, queues waiters FIFO and times them out on the simulated clock, discards broken
// connections, and reconnects with exponential backoff after a crash or an admin shutdown.
// Time is a LoopSyncedClock: nothing here sleeps; waiting threads are woken by advancing it.
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/clients/postgres/database_manager.h"
#include "harness/core/journal.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "suites/req_infra_02/pool_test_support.h"

namespace faultline::req_infra_02 {
namespace {

using clients::ConnectionPool;
using clients::PooledConnection;
using clients::PoolTimeout;
using clients::PoolUnavailable;
using testing::wait_until;

std::vector<std::int64_t> backoffs_ms(const Journal& journal) {
  std::vector<std::int64_t> out;
  for (const auto& e : journal.events()) {
    if (e.kind == "pool.reconnect") out.push_back(e.fields.at("backoff_ms").get<std::int64_t>());
  }
  return out;
}

TEST(PoolFakeTest, PoolIsEstablishedWithTheConfiguredParameters) {
  FAULTLINE_COVERS("UT-INFRA-02.1");
  FakeDatabase db;
  auto config = small_pool(db.conninfo(), 3, 2);
  config.timeout = 7s;
  clients::DatabaseManager manager(config, db.clock());
  ConnectionPool& pool = manager.create_connection_pool();
  EXPECT_EQ(&pool, &manager.create_connection_pool()) << "one pool per manager";

  pool.warm_up();  // `size` connections established
  auto stats = pool.stats();
  EXPECT_EQ(stats.max_connections, 5);
  EXPECT_EQ(stats.open_connections, 3);
  EXPECT_EQ(stats.idle_connections, 3);
  EXPECT_EQ(stats.active_connections, 0);
  EXPECT_EQ(stats.available_connections, 5);
  EXPECT_EQ(stats.connection_timeout, 7);
  EXPECT_EQ(db.fake().session_count(), 3u);
  EXPECT_EQ(manager.server_session_count(), 3) << "pg_stat_activity sees the pool's sessions";

  std::vector<PooledConnection> held;
  for (int i = 0; i < 5; ++i) held.push_back(pool.acquire());
  stats = pool.stats();
  EXPECT_EQ(stats.active_connections, 5);
  EXPECT_EQ(stats.available_connections, 0);
  EXPECT_EQ(stats.open_connections, 5);
  EXPECT_FALSE(pool.try_acquire().has_value()) << "size + max_overflow is the limit";
  EXPECT_EQ(db.fake().session_count(), 5u);

  held.clear();  // two overflow connections are closed, `size` stay idle
  stats = pool.stats();
  EXPECT_EQ(stats.open_connections, 3);
  EXPECT_EQ(stats.idle_connections, 3);
  EXPECT_EQ(stats.opened, 5u);
  EXPECT_EQ(stats.closed, 2u);
  EXPECT_TRUE(wait_until([&] { return db.fake().session_count() == 3u; }));

  const auto health = manager.health_check();
  EXPECT_TRUE(health.healthy) << health.error;
  EXPECT_EQ(health.pool.max_connections, 5);
}

TEST(PoolFakeTest, ExhaustedPoolQueuesWaitersInOrderAndTimesThemOutOnTheClock) {
  FAULTLINE_COVERS("UT-INFRA-02.2");
  FakeDatabase db;
  Journal journal(db.clock());
  auto pool = clients::create_connection_pool(small_pool(db.conninfo(), 1, 1), db.clock(),
                                              &journal);  // timeout 5 s
  auto first = pool->acquire();
  auto second = pool->acquire();

  // Three callers queue, in a known order.
  std::mutex mu;
  std::vector<std::string> served;
  std::vector<std::optional<PooledConnection>> got(3);
  std::vector<std::string> failure(3);
  std::vector<std::thread> callers;
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back([&, i] {
      try {
        auto c = pool->acquire();
        std::lock_guard lock(mu);
        served.push_back("caller" + std::to_string(i));
        got[i].emplace(std::move(c));
      } catch (const PoolTimeout& e) {
        std::lock_guard lock(mu);
        failure[i] = e.what();
      }
    });
    ASSERT_TRUE(wait_until([&] { return pool->stats().waiting == i + 1; }));
  }
  db.clock().advance(1s);  // the callers queued at t=0: their deadline is t=5s

  // Returned connections go to the longest waiter first.
  first.release();
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard l(mu);
    return served.size() == 1;
  }));
  EXPECT_EQ(pool->stats().waiting, 2);
  second.release();
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard l(mu);
    return served.size() == 2;
  }));
  EXPECT_EQ(served, (std::vector<std::string>{"caller0", "caller1"}));

  // The third waits until its deadline on the pool's clock, not a moment less.
  db.clock().advance(3999ms);
  EXPECT_EQ(pool->stats().waiting, 1);
  EXPECT_EQ(pool->stats().timeouts, 0u);
  db.clock().advance(1ms);
  callers[2].join();
  EXPECT_NE(failure[2].find("exhausted: no connection within 5000 ms (2 of 2 open"),
            std::string::npos)
      << failure[2];
  callers[0].join();
  callers[1].join();

  const auto stats = pool->stats();
  EXPECT_EQ(stats.waits, 3u);
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.waiting, 0);
  EXPECT_EQ(stats.open_connections, 2);
  EXPECT_THROW(pool->acquire(0ms), PoolTimeout) << "a zero timeout never waits";
  EXPECT_EQ(pool->stats().timeouts, 2u);
  int timeouts_journaled = 0;
  for (const auto& e : journal.events()) timeouts_journaled += e.kind == "pool.timeout";
  EXPECT_EQ(timeouts_journaled, 2);
}

TEST(PoolFakeTest, AfterACrashThePoolDiscardsBrokenConnectionsAndReconnectsWithBackoff) {
  FAULTLINE_COVERS("ET-INFRA-02.1");
  FakeDatabase db;
  Journal journal(db.clock());
  auto pool =
      clients::create_connection_pool(small_pool(db.conninfo(), 2, 1), db.clock(), &journal);
  pool->warm_up();
  auto held = pool->acquire();

  db.fake().crash(150ms);  // every connection dropped; refused until t=150ms
  EXPECT_FALSE(query_ok(*held)) << "the lent connection broke";
  held.release();  // discarded, not reused
  EXPECT_EQ(pool->stats().discarded_broken, 1u);

  const auto before = db.clock().now();
  auto c = pool->acquire();  // idle one is broken -> discarded; connects: refused, 100 ms, 200 ms
  EXPECT_TRUE(query_ok(*c));
  EXPECT_EQ(db.clock().now() - before, 300ms) << "backoff 100 ms then 200 ms, on the clock";
  EXPECT_EQ(backoffs_ms(journal), (std::vector<std::int64_t>{100, 200}));
  const auto stats = pool->stats();
  EXPECT_EQ(stats.connect_failures, 2u);
  EXPECT_EQ(stats.reconnects, 1u);
  EXPECT_EQ(stats.discarded_broken, 2u);
  EXPECT_LE(stats.open_connections, 3);
}

TEST(PoolFakeTest, AfterAnAdminShutdownEveryBorrowGetsAWorkingConnection) {
  FAULTLINE_COVERS("ET-INFRA-02.1");
  FakeDatabase db;
  auto pool = clients::create_connection_pool(small_pool(db.conninfo(), 3, 0), db.clock());
  pool->warm_up();
  db.fake().admin_shutdown();  // FATAL 57P01 to every session, still accepting
  for (int round = 0; round < 2; ++round) {
    std::vector<PooledConnection> all;
    for (int i = 0; i < 3; ++i) {
      all.push_back(pool->acquire());
      EXPECT_TRUE(query_ok(*all.back()));
    }
  }
  EXPECT_EQ(pool->stats().discarded_broken, 3u);
  EXPECT_EQ(pool->stats().connect_failures, 0u);
  EXPECT_EQ(db.fake().session_count(), 3u);
}

TEST(PoolFakeTest, WhenTheDatabaseStaysDownTheCallerGetsATypedErrorAndTheSlotIsFreed) {
  FAULTLINE_COVERS("ET-INFRA-02.1");
  FakeDatabase db;
  Journal journal(db.clock());
  auto pool =
      clients::create_connection_pool(small_pool(db.conninfo(), 1, 0), db.clock(), &journal);
  db.fake().crash(10s);
  const auto before = db.clock().now();
  try {
    (void)pool->acquire();
    FAIL() << "acquired from a crashed database";
  } catch (const PoolUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("after 4 attempts"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db.clock().now() - before, 700ms);
  EXPECT_EQ(backoffs_ms(journal), (std::vector<std::int64_t>{100, 200, 400}));
  EXPECT_EQ(pool->stats().open_connections, 0) << "the failed connect gave its slot back";

  db.clock().advance(10s);  // the database is back
  auto c = pool->acquire();
  EXPECT_TRUE(query_ok(*c));
}

TEST(PoolFakeTest, WaitersAreReleasedWhenThePoolIsDestroyed) {
  FakeDatabase db;
  auto pool = clients::create_connection_pool(small_pool(db.conninfo(), 1, 0), db.clock());
  auto held = pool->acquire();
  std::string outcome;
  std::thread waiter([&] {
    try {
      (void)pool->acquire();
      outcome = "acquired";
    } catch (const PoolUnavailable&) {
      outcome = "unavailable";
    }
  });
  ASSERT_TRUE(wait_until([&] { return pool->stats().waiting == 1; }));
  auto doomed = std::move(pool);
  std::thread destroyer([&] { doomed.reset(); });
  destroyer.join();
  waiter.join();
  EXPECT_EQ(outcome, "unavailable");
  held.release();  // returned after the pool is gone: closed
  EXPECT_TRUE(wait_until([&] { return db.fake().session_count() == 0u; }));
}

TEST(PoolFakeTest, ManyThreadsNeverTakeMoreThanTheBound) {
  // Concurrency under real time (this is the program TSan runs); the bound is checked by the
  // pool's own count and by the server's session count, sampled while the threads run.
  EventLoop loop;
  RealClock clock;
  pg::PostgresFake fake(loop, clock);
  fake.start();
  auto config = small_pool(fake.connection_string(), 2, 2);
  config.timeout = 20s;  // a limit on a broken test, not a timing under test
  auto pool = clients::create_connection_pool(config, clock);
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::atomic<int> max_open{0};
  std::atomic<int> max_sessions{0};
  std::atomic<bool> stop{false};
  std::thread monitor([&] {
    while (!stop) {
      max_open = std::max(max_open.load(), pool->stats().open_connections);
      max_sessions = std::max(max_sessions.load(), static_cast<int>(fake.session_count()));
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 12; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        try {
          auto c = pool->acquire();
          if (!query_ok(*c)) ++failed;
          if ((t + i) % 7 == 0) c.mark_broken();  // some are thrown away and replaced
          ++done;
        } catch (const std::exception&) {
          ++failed;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  monitor.join();
  EXPECT_EQ(done.load(), 12 * 25);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LE(max_open.load(), 4);
  EXPECT_LE(max_sessions.load(), 4);
  const auto stats = pool->stats();
  EXPECT_EQ(stats.active_connections, 0);
  EXPECT_EQ(stats.opened - stats.closed, static_cast<std::uint64_t>(stats.open_connections));
  pool.reset();
  fake.stop();
}

}  // namespace
}  // namespace faultline::req_infra_02
