// TTLs on simulated time, checked against a model: a RapidCheck state machine drives the fake on a
// ManualClock with SET [PX], GET, PTTL, PEXPIRE, PERSIST, DEL and clock advances, and compares
// every reply with a map of key -> (value, deadline). This is the half of the TTL property that
// redis-server cannot take part in (its clock cannot be advanced); the conformance suite checks
// the other half, fake against redis-server without expiry.
#include <chrono>
#include <map>
#include <optional>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "fakes/redis/fake_fixture.h"
#include "harness/testing/property.h"

namespace faultline::fakes::redis::testing {
namespace {

using Ms = long long;

struct Model {
  Ms now = 0;
  struct Item {
    std::string value;
    std::optional<Ms> deadline;
  };
  std::map<std::string, Item> keys;
  void expire() {
    std::erase_if(keys,
                  [&](const auto& kv) { return kv.second.deadline && *kv.second.deadline <= now; });
  }
};

struct Sut {
  ManualClock* clock;
  RedisTestClient* client;
};

using Cmd = rc::state::Command<Model, Sut>;

rc::Gen<std::string> key() {
  return rc::gen::element<std::string>("a", "b", "c");
}

struct Set : Cmd {
  std::string k = *key();
  std::string v = *rc::gen::element<std::string>("1", "x", "");
  std::optional<Ms> px = [] {
    const Ms v = *rc::gen::inRange<Ms>(0, 5000);
    return v == 0 ? std::nullopt : std::optional<Ms>(v);
  }();
  void apply(Model& m) const override {
    m.expire();
    m.keys[k] = {v, px ? std::optional<Ms>(m.now + *px) : std::nullopt};
  }
  void run(const Model&, Sut& s) const override {
    std::vector<std::string> argv = {"SET", k, v};
    if (px) argv.insert(argv.end(), {"PX", std::to_string(*px)});
    RC_ASSERT(s.client->cmd(argv) == "+OK");
  }
  void show(std::ostream& os) const override {
    os << "SET " << k << " " << v << " PX " << (px ? *px : 0);
  }
};

struct Get : Cmd {
  std::string k = *key();
  void apply(Model&) const override {}
  void run(const Model& m0, Sut& s) const override {
    Model m = m0;
    m.expire();
    const auto it = m.keys.find(k);
    RC_ASSERT(s.client->cmd({"GET", k}) ==
              (it == m.keys.end() ? "$(nil)" : "$" + it->second.value));
  }
  void show(std::ostream& os) const override { os << "GET " << k; }
};

struct Pttl : Cmd {
  std::string k = *key();
  void apply(Model&) const override {}
  void run(const Model& m0, Sut& s) const override {
    Model m = m0;
    m.expire();
    const auto it = m.keys.find(k);
    const std::string expected = it == m.keys.end() ? ":-2"
                                 : !it->second.deadline
                                     ? ":-1"
                                     : ":" + std::to_string(*it->second.deadline - m.now);
    RC_ASSERT(s.client->cmd({"PTTL", k}) == expected);
  }
  void show(std::ostream& os) const override { os << "PTTL " << k; }
};

struct Pexpire : Cmd {
  std::string k = *key();
  Ms ms = *rc::gen::inRange<Ms>(-10, 5000);
  void apply(Model& m) const override {
    m.expire();
    const auto it = m.keys.find(k);
    if (it == m.keys.end()) return;
    if (ms <= 0) {
      m.keys.erase(it);
    } else {
      it->second.deadline = m.now + ms;
    }
  }
  void run(const Model& m0, Sut& s) const override {
    Model m = m0;
    m.expire();
    const bool exists = m.keys.count(k) > 0;
    RC_ASSERT(s.client->cmd({"PEXPIRE", k, std::to_string(ms)}) == (exists ? ":1" : ":0"));
  }
  void show(std::ostream& os) const override { os << "PEXPIRE " << k << " " << ms; }
};

struct Persist : Cmd {
  std::string k = *key();
  void apply(Model& m) const override {
    m.expire();
    if (auto it = m.keys.find(k); it != m.keys.end()) it->second.deadline.reset();
  }
  void run(const Model& m0, Sut& s) const override {
    Model m = m0;
    m.expire();
    const auto it = m.keys.find(k);
    const bool had = it != m.keys.end() && it->second.deadline;
    RC_ASSERT(s.client->cmd({"PERSIST", k}) == (had ? ":1" : ":0"));
  }
  void show(std::ostream& os) const override { os << "PERSIST " << k; }
};

struct Del : Cmd {
  std::string k = *key();
  void apply(Model& m) const override {
    m.expire();
    m.keys.erase(k);
  }
  void run(const Model& m0, Sut& s) const override {
    Model m = m0;
    m.expire();
    RC_ASSERT(s.client->cmd({"DEL", k}) == (m.keys.count(k) ? ":1" : ":0"));
  }
  void show(std::ostream& os) const override { os << "DEL " << k; }
};

struct Advance : Cmd {
  Ms ms = *rc::gen::inRange<Ms>(0, 3000);
  void apply(Model& m) const override { m.now += ms; }
  void run(const Model&, Sut& s) const override { s.clock->advance(std::chrono::milliseconds(ms)); }
  void show(std::ostream& os) const override { os << "advance " << ms << " ms"; }
};

TEST_F(FakeRedisTest, TtlsFollowAModelOnSimulatedTime) {
  faultline::testing::check_property([&] {
    ASSERT_EQ(cmd({"FLUSHALL"}), "+OK");
    // Simulated time is relative to where this run starts.
    Model model;
    Sut sut{&clock, client.get()};
    rc::state::check(
        model, sut,
        rc::state::gen::execOneOfWithArgs<Set, Get, Pttl, Pexpire, Persist, Del, Advance>());
  });
}

}  // namespace
}  // namespace faultline::fakes::redis::testing
