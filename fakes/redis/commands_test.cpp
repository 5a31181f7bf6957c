// The Redis fake's commands through a real client (hiredis): every family, error texts, TTLs on
// simulated time, memory accounting and eviction under maxmemory for each policy.
#include <chrono>

#include <gtest/gtest.h>

#include "fakes/redis/fake_fixture.h"

namespace faultline::fakes::redis::testing {
namespace {

using namespace std::chrono_literals;
constexpr const char* kWrongType =
    "-WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr const char* kNotInteger = "-ERR value is not an integer or out of range";

TEST_F(FakeRedisTest, Strings) {
  EXPECT_EQ(cmd({"SET", "k", "v"}), "+OK");
  EXPECT_EQ(cmd({"GET", "k"}), "$v");
  EXPECT_EQ(cmd({"SET", "k", "w", "NX"}), "$(nil)");
  EXPECT_EQ(cmd({"SET", "k", "w", "XX", "GET"}), "$v");
  EXPECT_EQ(cmd({"SET", "n", "w", "XX"}), "$(nil)");
  EXPECT_EQ(cmd({"SET", "k", "v", "NX", "XX"}), "-ERR syntax error");
  EXPECT_EQ(cmd({"SET", "k", "v", "EX"}), "-ERR syntax error");
  EXPECT_EQ(cmd({"SET", "k", "v", "EX", "0"}), "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(cmd({"SET", "k", "v", "EX", "x"}), kNotInteger);
  // Beyond the Clock's nanosecond range (~292 years): refused, not overflowed (found by fuzzing).
  EXPECT_EQ(cmd({"SET", "k", "v", "EX", "777777777771100"}),
            "-ERR invalid expire time in 'set' command");
  EXPECT_EQ(cmd({"GETDEL", "k"}), "$w");
  EXPECT_EQ(cmd({"GETDEL", "k"}), "$(nil)");
  EXPECT_EQ(cmd({"MSET", "a", "1", "b", "2"}), "+OK");
  EXPECT_EQ(cmd({"MSET", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command");
  EXPECT_EQ(cmd({"MGET", "a", "nope", "b"}), "*[$1, $(nil), $2]");
  EXPECT_EQ(cmd({"INCR", "a"}), ":2");
  EXPECT_EQ(cmd({"INCRBY", "a", "10"}), ":12");
  EXPECT_EQ(cmd({"DECR", "a"}), ":11");
  EXPECT_EQ(cmd({"DECRBY", "a", "20"}), ":-9");
  EXPECT_EQ(cmd({"INCRBY", "a", "x"}), kNotInteger);
  EXPECT_EQ(cmd({"SET", "big", "9223372036854775807"}), "+OK");
  EXPECT_EQ(cmd({"INCR", "big"}), "-ERR increment or decrement would overflow");
  EXPECT_EQ(cmd({"SET", "s", "abc"}), "+OK");
  EXPECT_EQ(cmd({"INCR", "s"}), kNotInteger);
  EXPECT_EQ(cmd({"APPEND", "s", "de"}), ":5");
  EXPECT_EQ(cmd({"STRLEN", "s"}), ":5");
  EXPECT_EQ(cmd({"STRLEN", "nope"}), ":0");
  EXPECT_EQ(cmd({"GET"}), "-ERR wrong number of arguments for 'get' command");
}

TEST_F(FakeRedisTest, KeysAndDatabases) {
  EXPECT_EQ(cmd({"MSET", "a", "1", "b", "2", "c", "3"}), "+OK");
  EXPECT_EQ(cmd({"EXISTS", "a", "a", "nope"}), ":2");
  EXPECT_EQ(cmd({"DEL", "a", "nope"}), ":1");
  EXPECT_EQ(cmd({"UNLINK", "b"}), ":1");
  EXPECT_EQ(cmd({"TYPE", "c"}), "+string");
  EXPECT_EQ(cmd({"TYPE", "nope"}), "+none");
  EXPECT_EQ(cmd({"DBSIZE"}), ":1");
  EXPECT_EQ(cmd({"SELECT", "1"}), "+OK");
  EXPECT_EQ(cmd({"DBSIZE"}), ":0");
  EXPECT_EQ(cmd({"SET", "c", "other"}), "+OK");
  EXPECT_EQ(cmd({"SELECT", "16"}), "-ERR DB index is out of range");
  EXPECT_EQ(cmd({"SELECT", "x"}), kNotInteger);
  EXPECT_EQ(cmd({"FLUSHDB"}), "+OK");
  EXPECT_EQ(cmd({"SELECT", "0"}), "+OK");
  EXPECT_EQ(cmd({"GET", "c"}), "$3");
  EXPECT_EQ(cmd({"MSET", "user:1", "a", "user:2", "b", "other", "c"}), "+OK");
  EXPECT_EQ(cmd({"KEYS", "user:[12]"}).size(), std::string("*[$user:1, $user:2]").size());
  EXPECT_EQ(cmd({"FLUSHALL", "NOW"}), "-ERR syntax error");
  EXPECT_EQ(cmd({"FLUSHALL"}), "+OK");
  EXPECT_EQ(cmd({"DBSIZE"}), ":0");
}

TEST_F(FakeRedisTest, ScanVisitsEveryKeyExactlyOnce) {
  std::set<std::string> keys;
  for (int i = 0; i < 250; ++i) {
    keys.insert("key:" + std::to_string(i));
    ASSERT_EQ(cmd({"SET", "key:" + std::to_string(i), "v"}), "+OK");
  }
  ASSERT_EQ(cmd({"HSET", "h", "f", "v"}), ":1");
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    ASSERT_LT(++rounds, 1000);
    const std::string reply = cmd({"SCAN", cursor, "MATCH", "key:*", "COUNT", "7"});
    // *[$<cursor>, *[$k1, $k2, ...]]
    const auto comma = reply.find(", ");
    cursor = reply.substr(3, comma - 3);
    const std::string list = reply.substr(comma + 4, reply.size() - comma - 6);
    for (std::size_t at = 0; at < list.size();) {
      const auto end = list.find(", ", at);
      seen.insert(list.substr(at + 1, (end == std::string::npos ? list.size() : end) - at - 1));
      if (end == std::string::npos) break;
      at = end + 2;
    }
  } while (cursor != "0");
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), keys);
  EXPECT_EQ(seen.size(), keys.size());
  EXPECT_EQ(cmd({"SCAN", "x"}), "-ERR invalid cursor");
  EXPECT_EQ(cmd({"SCAN", "0", "COUNT", "0"}), "-ERR syntax error");
  EXPECT_EQ(cmd({"SCAN", "0", "TYPE", "hash", "COUNT", "1000"}), "*[$0, *[$h]]");
}

TEST_F(FakeRedisTest, Hashes) {
  EXPECT_EQ(cmd({"HSET", "h", "a", "1", "b", "2"}), ":2");
  EXPECT_EQ(cmd({"HSET", "h", "a", "3"}), ":0");
  EXPECT_EQ(cmd({"HSET", "h", "a"}), "-ERR wrong number of arguments for 'hset' command");
  EXPECT_EQ(cmd({"HGET", "h", "a"}), "$3");
  EXPECT_EQ(cmd({"HGET", "h", "z"}), "$(nil)");
  EXPECT_EQ(cmd({"HGETALL", "h"}), "*[$a, $3, $b, $2]");
  EXPECT_EQ(cmd({"HINCRBY", "h", "a", "5"}), ":8");
  EXPECT_EQ(cmd({"HSET", "h", "s", "x"}), ":1");
  EXPECT_EQ(cmd({"HINCRBY", "h", "s", "1"}), "-ERR hash value is not an integer");
  EXPECT_EQ(cmd({"HEXISTS", "h", "a"}), ":1");
  EXPECT_EQ(cmd({"HLEN", "h"}), ":3");
  EXPECT_EQ(cmd({"HDEL", "h", "a", "b", "s", "zz"}), ":3");
  EXPECT_EQ(cmd({"EXISTS", "h"}), ":0");  // an emptied hash is deleted
  EXPECT_EQ(cmd({"SET", "s", "x"}), "+OK");
  EXPECT_EQ(cmd({"HGET", "s", "a"}), kWrongType);
  EXPECT_EQ(cmd({"HSET", "s", "a", "b"}), kWrongType);
}

TEST_F(FakeRedisTest, Lists) {
  EXPECT_EQ(cmd({"RPUSH", "l", "a", "b"}), ":2");
  EXPECT_EQ(cmd({"LPUSH", "l", "z"}), ":3");
  EXPECT_EQ(cmd({"LRANGE", "l", "0", "-1"}), "*[$z, $a, $b]");
  EXPECT_EQ(cmd({"LRANGE", "l", "-2", "100"}), "*[$a, $b]");
  EXPECT_EQ(cmd({"LRANGE", "l", "5", "10"}), "*[]");
  EXPECT_EQ(cmd({"LRANGE", "l", "x", "1"}), kNotInteger);
  EXPECT_EQ(cmd({"LLEN", "l"}), ":3");
  EXPECT_EQ(cmd({"LPOP", "l"}), "$z");
  EXPECT_EQ(cmd({"RPOP", "l", "5"}), "*[$b, $a]");
  EXPECT_EQ(cmd({"LPOP", "l"}), "$(nil)");
  EXPECT_EQ(cmd({"LPOP", "l", "2"}), "$(nil)");  // hiredis shows *-1 as nil too; see below
  EXPECT_EQ(cmd({"LPOP", "l", "-1"}), "-ERR value is out of range, must be positive");
  EXPECT_EQ(cmd({"SET", "s", "x"}), "+OK");
  EXPECT_EQ(cmd({"LPUSH", "s", "x"}), kWrongType);
}

TEST_F(FakeRedisTest, ServerCommands) {
  EXPECT_EQ(cmd({"PING"}), "+PONG");
  EXPECT_EQ(cmd({"PING", "hi"}), "$hi");
  EXPECT_EQ(cmd({"ECHO", "x y"}), "$x y");
  EXPECT_EQ(cmd({"NOPE", "a", "b"}),
            "-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ");
  EXPECT_EQ(cmd({"HELLO", "3"}), "-NOPROTO unsupported protocol version");
  EXPECT_EQ(cmd({"HELLO", "2"}).substr(0, 40), "*[$server, $redis, $version, $7.0.15, $p");
  EXPECT_EQ(cmd({"CLIENT", "GETNAME"}), "$(nil)");
  EXPECT_EQ(cmd({"CLIENT", "SETNAME", "worker-1"}), "+OK");
  EXPECT_EQ(cmd({"CLIENT", "GETNAME"}), "$worker-1");
  EXPECT_EQ(cmd({"CLIENT", "SETNAME", "a b"}),
            "-ERR Client names cannot contain spaces, newlines or special characters.");
  EXPECT_EQ(cmd({"CLIENT", "ID"}), ":1");
  EXPECT_NE(cmd({"CLIENT", "LIST"}).find("id=1 "), std::string::npos);
  EXPECT_EQ(cmd({"CLIENT", "FOO"}), "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.");
  EXPECT_EQ(cmd({"CONFIG", "GET", "maxmemory-policy"}), "*[$maxmemory-policy, $noeviction]");
  EXPECT_EQ(cmd({"CONFIG", "SET", "maxmemory", "10mb"}), "+OK");
  EXPECT_EQ(cmd({"CONFIG", "GET", "maxmemory"}), "*[$maxmemory, $10485760]");
  EXPECT_EQ(cmd({"CONFIG", "SET", "maxmemory-policy", "bogus"}).substr(0, 80),
            "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argum");
  EXPECT_EQ(cmd({"CONFIG", "SET", "nope", "1"}),
            "-ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
  EXPECT_EQ(cmd({"CONFIG", "GET"}), "-ERR wrong number of arguments for 'config|get' command");
  EXPECT_EQ(cmd({"COMMAND", "COUNT"}).substr(0, 1), ":");
  EXPECT_EQ(info_field("memory", "maxmemory"), "10485760");
  EXPECT_EQ(info_field("server", "redis_version"), "7.0.15");
  EXPECT_EQ(info_field("clients", "connected_clients"), "1");
  EXPECT_EQ(cmd({"QUIT"}), "+OK");
  EXPECT_EQ(cmd({"PING"}).substr(0, 1), "!");  // the connection is closed
}

TEST_F(FakeRedisTest, StatsCountHitsMissesAndCommands) {
  cmd({"SET", "a", "1"});
  cmd({"GET", "a"});
  cmd({"GET", "b"});
  EXPECT_EQ(info_field("stats", "keyspace_hits"), "1");
  EXPECT_EQ(info_field("stats", "keyspace_misses"), "1");
  EXPECT_EQ(info_field("keyspace", "db0"), "keys=1,expires=0,avg_ttl=0");
}

TEST_F(FakeRedisTest, TtlsExpireOnTheHarnessClock) {
  EXPECT_EQ(cmd({"SET", "k", "v", "EX", "10"}), "+OK");
  EXPECT_EQ(cmd({"TTL", "k"}), ":10");
  EXPECT_EQ(cmd({"PTTL", "k"}), ":10000");
  clock.advance(9999ms);
  EXPECT_EQ(cmd({"PTTL", "k"}), ":1");
  EXPECT_EQ(cmd({"GET", "k"}), "$v");
  clock.advance(1ms);
  EXPECT_EQ(cmd({"GET", "k"}), "$(nil)");
  EXPECT_EQ(cmd({"TTL", "k"}), ":-2");
  EXPECT_EQ(info_field("stats", "expired_keys"), "1");

  EXPECT_EQ(cmd({"SET", "p", "v"}), "+OK");
  EXPECT_EQ(cmd({"TTL", "p"}), ":-1");
  EXPECT_EQ(cmd({"PEXPIRE", "p", "1500"}), ":1");
  EXPECT_EQ(cmd({"TTL", "p"}), ":2");  // rounded as redis-server rounds
  EXPECT_EQ(cmd({"EXPIRE", "p", "100", "NX"}), ":0");
  EXPECT_EQ(cmd({"EXPIRE", "p", "100", "GT"}), ":1");
  EXPECT_EQ(cmd({"EXPIRE", "p", "5", "NX", "XX"}),
            "-ERR NX and XX, GT or LT options at the same time are not compatible");
  EXPECT_EQ(cmd({"EXPIRE", "p", "9999999999999999"}),
            "-ERR invalid expire time in 'expire' command");
  EXPECT_EQ(cmd({"PEXPIRE", "p", "777777777700400000"}),
            "-ERR invalid expire time in 'pexpire' command");
  EXPECT_EQ(cmd({"PERSIST", "p"}), ":1");
  EXPECT_EQ(cmd({"PERSIST", "p"}), ":0");
  clock.advance(1000s);
  EXPECT_EQ(cmd({"GET", "p"}), "$v");
  EXPECT_EQ(cmd({"EXPIRE", "p", "-1"}), ":1");  // a past deadline deletes
  EXPECT_EQ(cmd({"EXISTS", "p"}), ":0");

  // KEEPTTL keeps, a plain SET clears; INCR and APPEND keep.
  EXPECT_EQ(cmd({"SET", "t", "1", "PX", "5000"}), "+OK");
  EXPECT_EQ(cmd({"INCR", "t"}), ":2");
  EXPECT_EQ(cmd({"SET", "t", "3", "KEEPTTL"}), "+OK");
  EXPECT_EQ(cmd({"PTTL", "t"}), ":5000");
  EXPECT_EQ(cmd({"SET", "t", "4"}), "+OK");
  EXPECT_EQ(cmd({"PTTL", "t"}), ":-1");
}

// Fills the fake until it must evict; returns the number of SETs that succeeded.
int fill(FakeRedisTest& t, RedisTestClient& c, const std::string& prefix, int n, bool ttl) {
  (void)t;
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> argv = {"SET", prefix + std::to_string(i), std::string(1000, 'x')};
    if (ttl) {
      argv.push_back("EX");
      argv.push_back(std::to_string(1000 + i));
    }
    if (c.cmd(argv) == "+OK") ++ok;
  }
  return ok;
}

class EvictionTest : public FakeRedisTest {
 protected:
  void with_policy(const std::string& policy) {
    RedisFakeOptions o;
    o.maxmemory = Keyspace::kBaseMemory + 100 * 1200;  // room for ~100 keys of 1000 bytes
    o.maxmemory_policy = policy;
    start(o);
    ASSERT_EQ(cmd({"CONFIG", "SET", "maxmemory-samples", "10"}), "+OK");
  }
  std::size_t used() { return std::stoul(info_field("memory", "used_memory")); }
  std::size_t maxmemory() { return std::stoul(info_field("memory", "maxmemory")); }
};

TEST_F(EvictionTest, NoevictionAnswersOomAndStillServesReadsAndDeletes) {
  with_policy("noeviction");
  const int ok = fill(*this, *client, "k", 300, false);
  EXPECT_GT(ok, 50);
  EXPECT_LT(ok, 300);
  EXPECT_EQ(cmd({"SET", "more", "x"}), "-OOM command not allowed when used memory > 'maxmemory'.");
  EXPECT_EQ(cmd({"GET", "k0"}), "$" + std::string(1000, 'x'));
  EXPECT_EQ(cmd({"DEL", "k0", "k1", "k2"}), ":3");
  EXPECT_EQ(cmd({"SET", "more", "x"}), "+OK");
  EXPECT_EQ(info_field("stats", "evicted_keys"), "0");
}

TEST_F(EvictionTest, AllkeysLruKeepsTheRecentlyUsedKey) {
  with_policy("allkeys-lru");
  ASSERT_EQ(cmd({"SET", "hot", "v"}), "+OK");
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(cmd({"SET", "k" + std::to_string(i), std::string(1000, 'x')}), "+OK");
    ASSERT_EQ(cmd({"GET", "hot"}), "$v");  // keeps it the most recently used
  }
  EXPECT_GT(std::stoul(info_field("stats", "evicted_keys")), 150u);
  EXPECT_LE(used(), maxmemory());
  EXPECT_EQ(cmd({"GET", "k299"}), "$" + std::string(1000, 'x'));
  EXPECT_EQ(cmd({"EXISTS", "k0"}), ":0");  // the least recently used went first
}

TEST_F(EvictionTest, AllkeysRandomEvictsAnyKey) {
  with_policy("allkeys-random");
  EXPECT_EQ(fill(*this, *client, "k", 300, false), 300);
  EXPECT_GT(std::stoul(info_field("stats", "evicted_keys")), 150u);
  EXPECT_LE(used(), maxmemory());
}

TEST_F(EvictionTest, VolatilePoliciesEvictOnlyKeysWithATtl) {
  for (const std::string policy : {"volatile-lru", "volatile-random", "volatile-ttl"}) {
    SCOPED_TRACE(policy);
    with_policy(policy);
    EXPECT_EQ(fill(*this, *client, "persistent", 40, false), 40);
    EXPECT_EQ(fill(*this, *client, "volatile", 200, true), 200);
    EXPECT_GT(std::stoul(info_field("stats", "evicted_keys")), 100u);
    for (int i = 0; i < 40; ++i) EXPECT_EQ(cmd({"EXISTS", "persistent" + std::to_string(i)}), ":1");
    if (policy == "volatile-ttl") {
      EXPECT_EQ(cmd({"EXISTS", "volatile0"}), ":0");    // the nearest deadline went first
      EXPECT_EQ(cmd({"EXISTS", "volatile199"}), ":1");  // the furthest stays
    }
    // With nothing volatile left to evict, writes get OOM.
    EXPECT_EQ(fill(*this, *client, "more", 200, false) < 200, true);
    EXPECT_EQ(cmd({"SET", "x", "y"}), "-OOM command not allowed when used memory > 'maxmemory'.");
  }
}

TEST_F(EvictionTest, MemoryAccountingIsExactAfterMixedOperations) {
  with_policy("allkeys-lru");
  for (int i = 0; i < 50; ++i) {
    const std::string k = "k" + std::to_string(i % 7);
    cmd({"RPUSH", "l" + k, "item" + std::to_string(i)});
    cmd({"HSET", "h" + k, "f" + std::to_string(i % 3),
         std::string(static_cast<std::size_t>(i), 'v')});
    cmd({"APPEND", "s" + k, "abc"});
    if (i % 5 == 0) cmd({"LPOP", "l" + k});
    if (i % 6 == 0) cmd({"HDEL", "h" + k, "f1"});
  }
  fake->with_keyspace([](Keyspace& ks) { EXPECT_EQ(ks.used_memory(), ks.recount()); });
}

}  // namespace
}  // namespace faultline::fakes::redis::testing
