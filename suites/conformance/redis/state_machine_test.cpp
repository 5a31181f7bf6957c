// RapidCheck state machine: random sequences of string, counter, TTL, hash and list commands run
// against redis-server and the fake; every reply must agree.
//
// Time. Both servers run on real time here, so TTLs are long (100-1000 s) and checked relatively:
// TTL must agree within one second (the two servers set it microseconds apart, and TTL rounds), a
// key never expires during a run, and -1/-2 must match exactly. Expiry itself — keys disappearing
// as time passes — cannot be driven on redis-server without waiting; it is covered against a model
// on simulated time in fakes/redis/ttl_model_test.cpp (the fake on a ManualClock).
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "harness/testing/property.h"
#include "suites/conformance/redis/redis_pair.h"

namespace faultline::conformance::redis {
namespace {

using fakes::redis::testing::RedisTestClient;

struct Model {};  // the servers are the model of each other; generation needs no state

struct Pair {
  RedisTestClient real;
  RedisTestClient fake;
};

using Cmd = rc::state::Command<Model, Pair>;

std::string show_argv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

rc::Gen<std::string> key() {
  return rc::gen::element<std::string>("a", "b", "c", "d");
}
rc::Gen<std::string> value() {
  return rc::gen::element<std::string>("0", "1", "-5", "x", "10", "", "9223372036854775807",
                                       "hello world");
}
rc::Gen<std::string> small_int() {
  return rc::gen::map(rc::gen::inRange(-3, 4), [](int i) { return std::to_string(i); });
}

// One command with generated arguments; run() sends it to both and compares.
struct Request : Cmd {
  std::vector<std::string> argv;
  bool ttl = false;  // compare TTL replies within one second

  explicit Request(std::vector<std::string> a, bool is_ttl = false)
      : argv(std::move(a)), ttl(is_ttl) {}

  void apply(Model&) const override {}
  void run(const Model&, Pair& p) const override {
    const std::string r = p.real.cmd(argv);
    const std::string f = p.fake.cmd(argv);
    if (ttl && r.size() > 1 && f.size() > 1 && r[0] == ':' && f[0] == ':') {
      const long long rv = std::atoll(r.c_str() + 1), fv = std::atoll(f.c_str() + 1);
      if (rv >= 0 && fv >= 0) {
        RC_ASSERT(std::llabs(rv - fv) <= 1);
        return;
      }
    }
    RC_ASSERT(r == f);
  }
  void show(std::ostream& os) const override { os << show_argv(argv); }
};

rc::Gen<std::shared_ptr<const Cmd>> generate(const Model&) {
  using V = std::vector<std::string>;
  const auto req = [](rc::Gen<V> g) {
    return rc::gen::map(g, [](V v) { return std::shared_ptr<const Cmd>(new Request(v)); });
  };
  const auto ttl_req = [](rc::Gen<V> g) {
    return rc::gen::map(g, [](V v) { return std::shared_ptr<const Cmd>(new Request(v, true)); });
  };
  const auto expiry =
      rc::gen::map(rc::gen::inRange(100, 1000), [](int s) { return std::to_string(s); });
  const auto of = [](std::initializer_list<rc::Gen<std::string>> parts) {
    std::vector<rc::Gen<std::string>> gens(parts);
    return rc::gen::exec([gens] {
      V v;
      for (const auto& g : gens) v.push_back(*g);
      return v;
    });
  };
  const auto lit = [](const char* s) { return rc::gen::just<std::string>(s); };
  return rc::gen::oneOf(
      req(of({lit("SET"), key(), value()})),
      req(of({lit("SET"), key(), value(), lit("EX"), expiry})),
      req(of({lit("SET"), key(), value(),
              rc::gen::element<std::string>("NX", "XX", "GET", "KEEPTTL")})),
      req(of({lit("GET"), key()})), req(of({lit("GETDEL"), key()})),
      req(of({lit("MGET"), key(), key()})), req(of({lit("MSET"), key(), value(), key(), value()})),
      req(of({rc::gen::element<std::string>("INCR", "DECR"), key()})),
      req(of({rc::gen::element<std::string>("INCRBY", "DECRBY"), key(), small_int()})),
      req(of({lit("APPEND"), key(), value()})), req(of({lit("STRLEN"), key()})),
      req(of({rc::gen::element<std::string>("DEL", "EXISTS", "TYPE", "PERSIST"), key()})),
      req(of({lit("EXPIRE"), key(), expiry})),
      req(of(
          {lit("EXPIRE"), key(), expiry, rc::gen::element<std::string>("NX", "XX", "GT", "LT")})),
      ttl_req(of({lit("TTL"), key()})), req(of({lit("HSET"), key(), value(), value()})),
      req(of({rc::gen::element<std::string>("HGET", "HDEL", "HEXISTS"), key(), value()})),
      req(of({lit("HINCRBY"), key(), value(), small_int()})),
      req(of({rc::gen::element<std::string>("HLEN", "HGETALL", "LLEN"), key()})),
      req(of({rc::gen::element<std::string>("LPUSH", "RPUSH"), key(), value(), value()})),
      req(of({rc::gen::element<std::string>("LPOP", "RPOP"), key()})),
      req(of({rc::gen::element<std::string>("LPOP", "RPOP"), key(), small_int()})),
      req(of({lit("LRANGE"), key(), small_int(), small_int()})), req(of({lit("DBSIZE")})));
}

TEST(RedisStateMachine, FakeAgreesWithRedisServer) {
  auto& pair = RedisPair::get();
  if (!pair.skip_reason().empty()) GTEST_SKIP() << pair.skip_reason();
  faultline::testing::check_property([&] {
    pair.reset();
    Pair p{pair.real_client(), pair.fake_client()};
    rc::state::check(Model{}, p, &generate);
  });
}

}  // namespace
}  // namespace faultline::conformance::redis
