// The application's whole history under faults, as a RapidCheck state machine: workload
// operations (put and get through CacheClient with the PostgreSQL pool behind it) interleaved with
// faults (Redis killed, Redis out of memory, PostgreSQL crashed, PostgreSQL partitioned from the
// application by its fault proxy), heals and simulated time. When a property fails, RapidCheck
// shrinks the whole history — operations and faults together — to a minimal failing one.
//
// What must hold after every step:
//   - a read returns the last acknowledged write of its key, or a write whose outcome was unknown
//     (it failed, so it may or may not have committed) — never an older value (no stale read,
//     whatever Redis holds);
//   - while PostgreSQL is reachable, no put and no get fails, whatever Redis is doing (the cache
//     falls back; callers see no Redis error);
//   - the pool never has more connections open than its bound, by its count and the server's;
// and a `Recover` step (heal everything, let time pass) followed by reading every key finds every
// acknowledged write (no acknowledged write lost).
//
// Everything runs on one simulated clock: the pool's reconnect backoff, the breaker's half-open
// timer, TTLs and the crashed server's refusal window.
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>
#include <pqxx/pqxx>

#include "chaos/proxy/proxy.h"
#include "chaos/proxy/proxy_server.h"
#include "fakes/redis/server.h"
#include "harness/clients/cache/cache_client.h"
#include "harness/clients/cache/redis_manager.h"
#include "harness/core/log.h"
#include "harness/testing/covers.h"
#include "harness/testing/property.h"
#include "suites/req_infra_02/pool_test_support.h"

namespace faultline::chaos {
namespace {

using namespace std::chrono_literals;
using req_infra_02::FakeDatabase;

constexpr int kKeys = 3;
constexpr int kPoolSize = 2;
constexpr int kPoolOverflow = 1;
constexpr std::int64_t kRefuseMs = 400;  // a crashed PostgreSQL refuses connections this long

// The database table behind the cache, reached through the application's pool.
class PoolSource final : public clients::CacheSource {
 public:
  explicit PoolSource(clients::ConnectionPool& pool) : pool_(pool) {}
  std::optional<std::string> load(const std::string& key) override {
    auto c = pool_.acquire();
    try {
      pqxx::nontransaction tx(*c);
      const auto r = tx.exec_params("SELECT v FROM kv WHERE k = $1", key);
      if (r.empty()) return std::nullopt;
      return r[0][0].as<std::string>();
    } catch (const pqxx::broken_connection&) {
      c.mark_broken();
      throw;
    }
  }
  void store(const std::string& key, const std::string& value) override {
    auto c = pool_.acquire();
    try {
      pqxx::nontransaction tx(*c);
      tx.exec_params(
          "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v", key,
          value);
    } catch (const pqxx::broken_connection&) {
      c.mark_broken();
      throw;
    }
  }

 private:
  clients::ConnectionPool& pool_;
};

// What the histories did, over every run of the property (recorded as test properties, so a
// report shows the property exercised faults and failures, not only quiet histories).
struct Tally {
  int puts_acked = 0, puts_failed = 0, gets = 0, gets_failed = 0, faults = 0, recoveries = 0;
};
Tally tally;

// What the generator needs to know: which faults are in place.
struct Model {
  bool redis_down = false;
  bool redis_oom = false;
  bool pg_partitioned = false;
  std::int64_t now_ms = 0;
  std::int64_t pg_refuse_until_ms = 0;  // a crash refuses connections until then
  bool pg_reachable() const { return !pg_partitioned && now_ms >= pg_refuse_until_ms; }
};

struct Sut {
  Sut() : proxies(loop, db.clock(), Rng(7)) {
    {
      pqxx::connection c(db.conninfo());
      pqxx::nontransaction tx(c);
      tx.exec("CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL)");
    }
    proxy = proxies.add_proxy(
        {"postgres", "127.0.0.1:0", "127.0.0.1:" + std::to_string(db.fake().port()), true});
    auto pool_config = req_infra_02::small_pool(db.conninfo(), kPoolSize, kPoolOverflow);
    pool_config.conninfo =
        "host=127.0.0.1 port=" + std::to_string(proxy.port()) + " user=postgres dbname=postgres";
    pool_config.timeout = 1s;
    pool = clients::create_connection_pool(pool_config, db.clock());
    source = std::make_unique<PoolSource>(*pool);
    redis = std::make_unique<fakes::redis::RedisFake>(redis_loop, db.clock(),
                                                      fakes::redis::RedisFakeOptions{});
    redis->start();
    clients::CacheConfig cache_config;
    cache_config.port = redis->port();
    cache_config.connect_timeout = 50ms;
    cache_config.command_timeout = 50ms;
    cache_config.default_ttl = 30s;
    cache_config.failure_threshold = 2;
    cache_config.half_open_after = 5s;
    manager = std::make_unique<clients::RedisManager>(cache_config);
    cache = std::make_unique<clients::CacheClient>(*manager, *source, db.clock(), nullptr,
                                                   cache_config);
  }
  ~Sut() {
    cache.reset();
    manager.reset();
    partition.heal();
    pool.reset();
  }

  FakeDatabase db;
  EventLoop loop;  // the proxy's
  EventLoop redis_loop;
  proxy::ProxyServer proxies;
  proxy::ProxyHandle proxy;
  proxy::ToxicHandle partition;
  std::unique_ptr<clients::ConnectionPool> pool;
  std::unique_ptr<PoolSource> source;
  std::unique_ptr<fakes::redis::RedisFake> redis;
  std::unique_ptr<clients::RedisManager> manager;
  std::unique_ptr<clients::CacheClient> cache;

  // The history's expectations: per key the last acknowledged value, and the values of writes
  // since then whose outcome is unknown.
  std::map<std::string, std::string> acked;
  std::map<std::string, std::set<std::string>> unknown;
  int next_value = 0;

  bool acceptable(const std::string& key, const std::optional<std::string>& got) const {
    const auto a = acked.find(key);
    if (!got) return a == acked.end();
    if (a != acked.end() && a->second == *got) return true;
    const auto u = unknown.find(key);
    return u != unknown.end() && u->second.count(*got) > 0;
  }
  void check_pool_bound() {
    const auto stats = pool->stats();
    RC_ASSERT(stats.open_connections <= kPoolSize + kPoolOverflow);
    RC_ASSERT(static_cast<int>(db.fake().session_count()) <= kPoolSize + kPoolOverflow);
  }
};

using Command = rc::state::Command<Model, Sut>;

std::string key_of(int i) {
  return "k" + std::to_string(i);
}

struct Put : Command {
  int key = *rc::gen::inRange(0, kKeys);
  void run(const Model& m, Sut& s) const override {
    const std::string k = key_of(key);
    const std::string v = "v" + std::to_string(s.next_value++);
    bool ok = true;
    try {
      s.cache->put(k, v);
    } catch (const std::exception&) {
      ok = false;
    }
    ++(ok ? tally.puts_acked : tally.puts_failed);
    if (ok) {
      s.acked[k] = v;
      s.unknown.erase(k);
    } else {
      RC_ASSERT(!m.pg_reachable());  // only the database being unreachable may fail a write
      s.unknown[k].insert(v);
    }
    s.check_pool_bound();
  }
  void show(std::ostream& os) const override { os << "put " << key_of(key); }
};

struct Get : Command {
  int key = *rc::gen::inRange(0, kKeys);
  void run(const Model& m, Sut& s) const override {
    const std::string k = key_of(key);
    ++tally.gets;
    try {
      const auto got = s.cache->get(k);
      RC_ASSERT(s.acceptable(k, got));
    } catch (const std::exception&) {
      ++tally.gets_failed;
      RC_ASSERT(!m.pg_reachable());  // a Redis fault alone never reaches the caller
    }
    s.check_pool_bound();
  }
  void show(std::ostream& os) const override { os << "get " << key_of(key); }
};

struct KillRedis : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.redis_down); }
  void apply(Model& m) const override { m.redis_down = true; }
  void run(const Model&, Sut& s) const override {
    ++tally.faults;
    s.redis->refuse_connections(true);
    s.redis->close_all_clients();
  }
  void show(std::ostream& os) const override { os << "kill redis"; }
};

struct RedisOom : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.redis_oom); }
  void apply(Model& m) const override { m.redis_oom = true; }
  void run(const Model&, Sut& s) const override {
    ++tally.faults;
    s.redis->oom(true);
  }
  void show(std::ostream& os) const override { os << "redis out of memory"; }
};

struct HealRedis : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.redis_down || m.redis_oom); }
  void apply(Model& m) const override { m.redis_down = m.redis_oom = false; }
  void run(const Model&, Sut& s) const override { s.redis->heal_all(); }
  void show(std::ostream& os) const override { os << "heal redis"; }
};

struct CrashPostgres : Command {
  void apply(Model& m) const override { m.pg_refuse_until_ms = m.now_ms + kRefuseMs; }
  void run(const Model&, Sut& s) const override {
    ++tally.faults;
    s.db.fake().crash(std::chrono::milliseconds(kRefuseMs));
  }
  void show(std::ostream& os) const override { os << "crash postgres"; }
};

struct PartitionPostgres : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.pg_partitioned); }
  void apply(Model& m) const override { m.pg_partitioned = true; }
  void run(const Model&, Sut& s) const override {
    ++tally.faults;
    s.partition = s.proxies.take_down("postgres");
  }
  void show(std::ostream& os) const override { os << "partition postgres"; }
};

struct HealPartition : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.pg_partitioned); }
  void apply(Model& m) const override { m.pg_partitioned = false; }
  void run(const Model&, Sut& s) const override { s.partition.heal(); }
  void show(std::ostream& os) const override { os << "heal partition"; }
};

struct AdvanceTime : Command {
  std::int64_t ms = *rc::gen::element<std::int64_t>(50, 500, 6000, 40000);
  void apply(Model& m) const override { m.now_ms += ms; }
  void run(const Model&, Sut& s) const override {
    s.db.clock().advance(std::chrono::milliseconds(ms));
  }
  void show(std::ostream& os) const override { os << "advance " << ms << " ms"; }
};

// Heals every fault, lets time pass beyond every window (a crash's refusal, the breaker's
// half-open timer), then reads every key: each must be its acknowledged value (or a write whose
// outcome was unknown, which is settled from then on).
constexpr std::int64_t kRecoverMs = kRefuseMs + 6000;

void recover_and_read_back(Sut& s) {
  ++tally.recoveries;
  s.redis->heal_all();
  s.partition.heal();
  s.db.clock().advance(std::chrono::milliseconds(kRecoverMs));
  for (int i = 0; i < kKeys; ++i) {
    const std::string k = key_of(i);
    const auto got = s.cache->get(k);  // must not throw: everything is healthy
    RC_ASSERT(s.acceptable(k, got));
    if (got) {
      s.acked[k] = *got;
      s.unknown.erase(k);
    }
  }
  s.check_pool_bound();
}

struct Recover : Command {
  void apply(Model& m) const override {
    m.redis_down = m.redis_oom = m.pg_partitioned = false;
    m.now_ms += kRecoverMs;
  }
  void run(const Model&, Sut& s) const override { recover_and_read_back(s); }
  void show(std::ostream& os) const override { os << "recover and read every key back"; }
};

TEST(HistoryStateMachineTest, NoAckedWriteLostNoStaleReadThroughMixedFaults) {
  FAULTLINE_COVERS("PT-INFRA-03.1");
  log::configure({log::Format::human, log::Level::error});  // faults make expected noise
  testing::check_property([] {
    Sut sut;
    Model model;
    rc::state::check(model, sut,
                     rc::state::gen::execOneOfWithArgs<Put, Put, Get, Get, Get, KillRedis, RedisOom,
                                                       HealRedis, CrashPostgres, PartitionPostgres,
                                                       HealPartition, AdvanceTime, Recover>());
    // The history ends healed, and nothing acknowledged is missing.
    recover_and_read_back(sut);
  });
  for (const auto& [name, n] : {std::pair<const char*, int>{"puts_acked", tally.puts_acked},
                                {"puts_failed", tally.puts_failed},
                                {"gets", tally.gets},
                                {"gets_failed", tally.gets_failed},
                                {"faults", tally.faults},
                                {"recoveries", tally.recoveries}}) {
    ::testing::Test::RecordProperty(name, n);
  }
  // A property that never saw a fault or a failed call would prove little.
  EXPECT_GT(tally.faults, 0);
  EXPECT_GT(tally.puts_failed + tally.gets_failed, 0);
  log::configure({});
}

}  // namespace
}  // namespace faultline::chaos
