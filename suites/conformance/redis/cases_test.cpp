// The same command sequences against redis-server and the fake; every reply must be identical
// (through hiredis, and byte for byte on the wire for the protocol cases) unless the case is
// listed in fakes/redis/KNOWN_LIMITATIONS.yaml with its reason. A listed case that no longer
// differs fails too, so the file stays true.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "suites/conformance/redis/redis_pair.h"

namespace faultline::conformance::redis {
namespace {

using fakes::redis::testing::RawSocket;
using Command = std::vector<std::string>;

struct Case {
  std::string id;
  std::vector<Command> commands;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"ping-echo", {{"PING"}, {"PING", "hello"}, {"ping", "a", "b"}, {"ECHO", "x y"}, {"ECHO"}}},
      {"unknown-command",
       {{"FOO", "bar", "baz"}, {"foo"}, {"NOPE", std::string(200, 'a'), "b"}, {"GETX", "k"}}},
      {"arity",
       {{"GET"},
        {"SET", "k"},
        {"HSET", "h", "f"},
        {"CONFIG", "GET"},
        {"CLIENT", "SETNAME"},
        {"MSET", "a", "1", "b"},
        {"LPOP", "l", "1", "2"},
        {"DBSIZE", "x"},
        {"TTL"}}},
      {"set-options",
       {{"SET", "k", "v"},
        {"SET", "k", "w", "NX"},
        {"SET", "k", "w", "XX", "GET"},
        {"SET", "n", "w", "XX"},
        {"SET", "k", "v", "NX", "XX"},
        {"SET", "k", "v", "EX", "0"},
        {"SET", "k", "v", "EX", "x"},
        {"SET", "k", "v", "PX", "-1"},
        {"SET", "k", "v", "EX"},
        {"SET", "k", "v", "EX", "10", "KEEPTTL"},
        {"SET", "k", "v", "EX", "10", "PX", "10"},
        {"SET", "k", "v", "GET"},
        {"SET", "k", "v", "nx", "get"},
        {"SET", "k", "v", "FOO"},
        {"SET", "k", "v", "EX", "9223372036854775807"},
        {"SET", "k", "v", "KEEPTTL"},
        {"TTL", "k"},
        {"SET", "k", "v", "EX", "100"},
        {"TTL", "k"},
        {"SET", "k", "z", "KEEPTTL"},
        {"TTL", "k"},
        {"GET", "k"}}},
      {"set-exat", {{"SET", "k", "v", "EXAT", "99999999999"}}},
      {"strings",
       {{"MSET", "a", "1", "b", "2"},
        {"MGET", "a", "nope", "b"},
        {"GETDEL", "a"},
        {"GETDEL", "a"},
        {"APPEND", "s", "ab"},
        {"APPEND", "s", "cd"},
        {"STRLEN", "s"},
        {"STRLEN", "nope"},
        {"SET", "", ""},
        {"GET", ""},
        {"SET", "bin", std::string("\0\xff\r\n", 4)},
        {"GET", "bin"},
        {"STRLEN", "bin"}}},
      {"counters",
       {{"INCR", "n"},
        {"INCRBY", "n", "10"},
        {"DECR", "n"},
        {"DECRBY", "n", "20"},
        {"INCRBY", "n", "x"},
        {"INCRBY", "n", "1.5"},
        {"SET", "big", "9223372036854775807"},
        {"INCR", "big"},
        {"SET", "small", "-9223372036854775808"},
        {"DECR", "small"},
        {"DECRBY", "n", "-9223372036854775808"},
        {"SET", "s", "abc"},
        {"INCR", "s"},
        {"SET", "sp", " 1"},
        {"INCR", "sp"},
        {"SET", "z", "007"},
        {"INCR", "z"},
        {"SET", "plus", "+1"},
        {"INCR", "plus"},
        {"GET", "n"}}},
      {"wrong-type",
       {{"SET", "s", "x"},
        {"HSET", "h", "f", "v"},
        {"RPUSH", "l", "a"},
        {"HGET", "s", "f"},
        {"HSET", "s", "f", "v"},
        {"LPUSH", "s", "x"},
        {"LRANGE", "s", "0", "1"},
        {"LLEN", "h"},
        {"GET", "h"},
        {"GET", "l"},
        {"INCR", "h"},
        {"APPEND", "l", "x"},
        {"STRLEN", "h"},
        {"HINCRBY", "l", "f", "1"},
        {"HGETALL", "s"},
        {"LPOP", "h"},
        {"RPOP", "s", "2"},
        {"GETDEL", "h"},
        {"SET", "h", "v", "GET"},
        {"MGET", "s", "h", "l"},
        {"TYPE", "s"},
        {"TYPE", "h"},
        {"TYPE", "l"},
        {"TYPE", "nope"}}},
      {"keys-and-databases",
       {{"MSET", "a", "1", "b", "2", "c", "3"},
        {"EXISTS", "a", "a", "nope"},
        {"DEL", "a", "nope"},
        {"UNLINK", "b", "b"},
        {"DBSIZE"},
        {"SELECT", "1"},
        {"DBSIZE"},
        {"SET", "c", "x"},
        {"SELECT", "16"},
        {"SELECT", "-1"},
        {"SELECT", "x"},
        {"SELECT", "99999999999"},
        {"FLUSHDB", "ASYNC"},
        {"SELECT", "0"},
        {"GET", "c"},
        {"FLUSHDB", "NOW"},
        {"FLUSHALL", "x"},
        {"FLUSHALL", "SYNC"},
        {"DBSIZE"}}},
      {"keys-patterns",
       {{"MSET", "hello", "1", "hallo", "2", "hxllo", "3", "user:1", "a", "user:2", "b"},
        {"KEYS", "h?llo"},
        {"KEYS", "user:[12]"},
        {"KEYS", "user:[^1]"},
        {"KEYS", "nomatch*"},
        {"KEYS", "h[a-e]llo"},
        {"SCAN", "0", "MATCH", "user:1", "COUNT", "1000"},
        {"SCAN", "x"},
        {"SCAN", " 1"},
        {"SCAN", "0", "COUNT", "0"},
        {"SCAN", "0", "FOO"},
        {"SCAN", "0", "MATCH"},
        {"SCAN", "0", "TYPE", "list", "COUNT", "1000"}}},
      {"expire-ttl",
       {{"SET", "k", "v"},
        {"TTL", "k"},
        {"PTTL", "nope"},
        {"TTL", "nope"},
        {"EXPIRE", "k", "100"},
        {"TTL", "k"},
        {"EXPIRE", "k", "100", "NX"},
        {"EXPIRE", "k", "200", "GT"},
        {"TTL", "k"},
        {"EXPIRE", "k", "50", "LT"},
        {"TTL", "k"},
        {"EXPIRE", "k", "500", "LT"},
        {"PERSIST", "k"},
        {"PERSIST", "k"},
        {"TTL", "k"},
        {"EXPIRE", "k", "10", "GT"},
        {"EXPIRE", "k", "10", "LT"},
        {"TTL", "k"},
        {"EXPIRE", "nope", "10"},
        {"EXPIRE", "k", "x"},
        {"EXPIRE", "k", "9999999999999999"},
        {"PEXPIRE", "k", "9223372036854775807"},
        {"PEXPIRE", "k", "100000"},
        {"TTL", "k"},
        {"EXPIRE", "k", "5", "NX", "XX"},
        {"EXPIRE", "k", "5", "GT", "LT"},
        {"EXPIRE", "k", "5", "FOO"},
        {"EXPIRE", "k", "-1"},
        {"EXISTS", "k"},
        {"SET", "j", "v"},
        {"PEXPIRE", "j", "0"},
        {"GET", "j"}}},
      {"hashes",
       {{"HSET", "h", "a", "1", "b", "2"},
        {"HSET", "h", "a", "3"},
        {"HGET", "h", "a"},
        {"HGET", "h", "z"},
        {"HGET", "nope", "a"},
        {"HGETALL", "h"},
        {"HGETALL", "nope"},
        {"HINCRBY", "h", "a", "5"},
        {"HINCRBY", "h", "new", "-2"},
        {"HINCRBY", "h", "a", "x"},
        {"HSET", "h", "s", "x"},
        {"HINCRBY", "h", "s", "1"},
        {"HSET", "h", "m", "9223372036854775807"},
        {"HINCRBY", "h", "m", "1"},
        {"HEXISTS", "h", "a"},
        {"HEXISTS", "h", "zz"},
        {"HLEN", "h"},
        {"HLEN", "nope"},
        {"HDEL", "h", "a", "zz"},
        {"HGETALL", "h"},
        {"HDEL", "h", "b", "s", "m", "new"},
        {"EXISTS", "h"},
        {"HDEL", "nope", "a"}}},
      {"lists",
       {{"RPUSH", "l", "a", "b"},
        {"LPUSH", "l", "z", "y"},
        {"LRANGE", "l", "0", "-1"},
        {"LRANGE", "l", "-2", "100"},
        {"LRANGE", "l", "5", "10"},
        {"LRANGE", "l", "2", "1"},
        {"LRANGE", "l", "-100", "0"},
        {"LRANGE", "l", "x", "1"},
        {"LRANGE", "nope", "0", "-1"},
        {"LLEN", "l"},
        {"LPOP", "l"},
        {"RPOP", "l", "2"},
        {"LPOP", "l", "0"},
        {"LPOP", "l", "-1"},
        {"LPOP", "l", "x"},
        {"RPOP", "l", "10"},
        {"EXISTS", "l"},
        {"LPOP", "l"},
        {"LPOP", "l", "2"},
        {"LPOP", "nope", "0"},
        {"LLEN", "nope"}}},
      {"hello",
       {{"HELLO", "4"},
        {"HELLO", "x"},
        {"HELLO", "1"},
        {"HELLO", "2", "FOO"},
        {"HELLO", "2", "SETNAME", "a b"}}},
      {"hello-3", {{"HELLO", "3"}}},
      {"client",
       {{"CLIENT", "GETNAME"},
        {"CLIENT", "SETNAME", "worker-1"},
        {"CLIENT", "GETNAME"},
        {"CLIENT", "SETNAME", "a b"},
        {"CLIENT", "SETNAME", ""},
        {"CLIENT", "GETNAME"},
        {"CLIENT", "FOO"},
        {"CLIENT", "GETNAME", "x"},
        {"CLIENT", "ID", "x"}}},
      {"config",
       {{"CONFIG", "GET", "maxmemory"},
        {"CONFIG", "SET", "maxmemory", "1mb"},
        {"CONFIG", "GET", "maxmemory"},
        {"CONFIG", "SET", "maxmemory", "2000k"},
        {"CONFIG", "GET", "maxmemory"},
        {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"},
        {"CONFIG", "GET", "maxmemory-policy"},
        {"CONFIG", "SET", "maxmemory-policy", "bogus"},
        {"CONFIG", "SET", "foo", "1"},
        {"CONFIG", "SET", "maxmemory", "abc"},
        {"CONFIG", "SET", "maxmemory-samples", "7"},
        {"CONFIG", "GET", "maxmemory-samples"},
        {"CONFIG", "SET", "maxmemory-samples", "5"},
        {"CONFIG", "FOO"},
        {"CONFIG", "GET", "save"},
        {"CONFIG", "GET", "appendonly"},
        {"CONFIG", "SET", "maxmemory", "0"},
        {"CONFIG", "SET", "maxmemory-policy", "noeviction"},
        {"CONFIG", "SET", "maxmemory"}}},
      {"config-lfu", {{"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"}}},
      {"command-count", {{"COMMAND", "COUNT"}}},
      {"oom-noeviction",
       {{"SET", "a", std::string(4096, 'x')},
        {"CONFIG", "SET", "maxmemory", "1"},
        {"SET", "b", "x"},
        {"GET", "a"},
        {"DEL", "a"},
        {"HSET", "h", "f", "v"},
        {"CONFIG", "SET", "maxmemory", "0"},
        {"SET", "b", "x"}}},
      {"quit", {{"SET", "a", "1"}, {"QUIT"}}},
  };
  return all;
}

// Bytes sent on a fresh connection; everything read until the server closes is compared.
struct WireCase {
  std::string id;
  std::string bytes;
};

const std::vector<WireCase>& wire_cases() {
  static const std::vector<WireCase> all = {
      {"wire-bad-multibulk", "*1\r\n$4\r\nPING\r\n*x\r\n"},
      {"wire-oversized-bulk", "*2\r\n$4\r\nECHO\r\n$600000000\r\n"},
      {"wire-expected-dollar", "*2\r\n$4\r\nECHO\r\n+a\r\n"},
      {"wire-negative-bulk", "*1\r\n$-1\r\n"},
      {"wire-unbalanced-quotes", "PING \"abc\r\n"},
      {"wire-quote-then-text", "ECHO \"a\"b\r\n"},
      {"wire-too-big-inline", std::string(70000, 'x')},
      {"wire-too-big-bulk-count", "*1\r\n" + std::string(70000, 'x')},
      {"wire-unchecked-crlf", "*1\r\n$3\r\nabcd\r\nQUIT\r\n"},
      {"wire-null-array", "LPOP nolist 2\r\nLPOP nolist\r\nQUIT\r\n"},
      {"wire-inline-quoting", "ECHO 'a b'\r\nECHO \"c\\x41\\n\"\r\nECHO \"\"\r\nQUIT\r\n"},
      {"wire-empty-requests", "\r\n\r\n*0\r\n*-1\r\nPING\nQUIT\r\n"},
      {"wire-pipelined-then-quit", "SET a 1\r\nGET a\r\nQUIT\r\nPING\r\n"},
  };
  return all;
}

// KEYS answers in hash-table order, which is not part of its contract: compare as sets.
std::string normalize(const Command& command, std::string reply) {
  if (command.empty() || command[0] != "KEYS" || reply.size() < 3 || reply[0] != '*') return reply;
  std::vector<std::string> items;
  const std::string inner = reply.substr(2, reply.size() - 3);
  for (std::size_t at = 0; at < inner.size();) {
    const auto end = inner.find(", ", at);
    items.push_back(inner.substr(at, end == std::string::npos ? std::string::npos : end - at));
    if (end == std::string::npos) break;
    at = end + 2;
  }
  std::sort(items.begin(), items.end());
  std::string out = "*[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

// A difference is a failure unless the case is a documented limitation; a documented limitation
// that no longer differs is a failure too.
void judge(const std::string& id, bool same, const std::string& detail) {
  const auto limitation = RedisPair::get().limitation_for(id);
  if (limitation) {
    EXPECT_FALSE(same) << id << " is listed in KNOWN_LIMITATIONS.yaml but fake and redis-server "
                       << "now agree; remove the entry";
    if (!same) {
      std::cout << "[ known limitation ] " << id << ": " << *limitation << "\n";
    }
    return;
  }
  EXPECT_TRUE(same) << "fake and redis-server differ in case " << id << "\n" << detail;
}

class RedisConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisPair::get().skip_reason().empty()) GTEST_SKIP() << RedisPair::get().skip_reason();
    RedisPair::get().reset();
  }
};

TEST_F(RedisConformance, CommandRepliesMatchRedisServer) {
  for (const auto& c : cases()) {
    RedisPair::get().reset();
    auto real = RedisPair::get().real_client();
    auto fake = RedisPair::get().fake_client();
    std::vector<std::string> real_replies, fake_replies;
    std::string detail;
    for (const auto& command : c.commands) {
      real_replies.push_back(normalize(command, real.cmd(command)));
      fake_replies.push_back(normalize(command, fake.cmd(command)));
      if (real_replies.back() != fake_replies.back()) {
        std::string shown;
        for (const auto& a : command) shown += a.substr(0, 40) + " ";
        detail += "  " + shown + "\n    redis-server: " + real_replies.back().substr(0, 300) +
                  "\n    fake:         " + fake_replies.back().substr(0, 300) + "\n";
      }
    }
    judge(c.id, real_replies == fake_replies, detail);
  }
}

TEST_F(RedisConformance, WireBytesMatchRedisServer) {
  for (const auto& c : wire_cases()) {
    std::string real_bytes, fake_bytes;
    bool real_closed = false, fake_closed = false;
    {
      RawSocket raw = RawSocket::tcp(RedisPair::get().real_port());
      raw.send(c.bytes);
      real_closed = raw.read_to_eof(real_bytes);
    }
    {
      RawSocket raw = RawSocket::tcp(RedisPair::get().fake_port());
      raw.send(c.bytes);
      fake_closed = raw.read_to_eof(fake_bytes);
    }
    EXPECT_TRUE(real_closed) << c.id << ": redis-server did not close (the case must end it)";
    judge(c.id, real_bytes == fake_bytes && real_closed == fake_closed,
          "    redis-server: " + real_bytes.substr(0, 300) +
              "\n    fake:         " + fake_bytes.substr(0, 300) + "\n");
  }
}

TEST_F(RedisConformance, EveryListedCaseExists) {
  std::vector<std::string> ids;
  for (const auto& c : cases()) ids.push_back(c.id);
  for (const auto& c : wire_cases()) ids.push_back(c.id);
  for (const auto& [id, reason] : RedisPair::get().limitations()) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end())
        << "KNOWN_LIMITATIONS.yaml names case '" << id << "', which does not exist";
    EXPECT_FALSE(reason.empty()) << id << " has no reason";
  }
}

}  // namespace
}  // namespace faultline::conformance::redis
