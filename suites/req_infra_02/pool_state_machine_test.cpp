// PT-INFRA-02.1, the pool half, against the PostgreSQL fake: a RapidCheck state machine over
// acquire, release, query, crash, admin shutdown, restart and advance-time. A model predicts
// every outcome (which acquires succeed, time out or find the database down, how much simulated
// time the reconnect backoff takes, which lent connections are broken); after every step the
// pool must be within size + max_overflow by its own count and by the server's session count.
// (Backup integrity, the other half of PT-INFRA-02.1, is in suites/req_infra_07.)
#include <algorithm>
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "harness/core/log.h"
#include "harness/testing/covers.h"
#include "harness/testing/property.h"
#include "suites/req_infra_02/pool_test_support.h"

namespace faultline::req_infra_02 {
namespace {

using clients::ConnectionPool;
using clients::PooledConnection;

constexpr std::int64_t kBackoffMs = 100;  // attempts at +0, +100, +300, +700 ms

struct Lent {
  int epoch = 0;  // the server's life the connection belongs to
  bool known_broken = false;
};

struct Model {
  int size = 1;
  int max = 1;
  int epoch = 0;            // bumped by every crash and admin shutdown
  std::int64_t now_ms = 0;  // simulated time
  std::int64_t refuse_until_ms = 0;
  std::vector<int> idle;  // epochs, most recently returned last
  std::vector<Lent> held;

  // Opening a connection now: the time it takes on the clock, or nullopt if every attempt fails.
  std::optional<std::int64_t> connect_delay() const {
    for (std::int64_t delay : {0, 100, 300, 700}) {
      if (refuse_until_ms <= now_ms + delay) return delay;
    }
    return std::nullopt;
  }
  int alive() const {
    int n = static_cast<int>(std::count(idle.begin(), idle.end(), epoch));
    for (const auto& l : held) n += l.epoch == epoch;
    return n;
  }
};

struct Sut {
  FakeDatabase db;
  std::unique_ptr<ConnectionPool> pool;
  std::vector<PooledConnection> held;
};

using Command = rc::state::Command<Model, Sut>;

void check_bound(const Model& m, Sut& s) {
  const auto stats = s.pool->stats();
  RC_ASSERT(stats.open_connections <= m.max);
  RC_ASSERT(stats.open_connections == static_cast<int>(m.idle.size() + m.held.size()));
  RC_ASSERT(stats.active_connections == static_cast<int>(m.held.size()));
  RC_ASSERT(stats.active_connections + stats.available_connections == stats.max_connections);
  const auto sessions = static_cast<int>(s.db.fake().session_count());
  RC_ASSERT(sessions <= m.max);
  RC_ASSERT(sessions == m.alive());
  RC_ASSERT(s.db.clock().now().time_since_epoch() == std::chrono::milliseconds(m.now_ms));
}

struct Acquire : Command {
  void apply(Model& m) const override {
    if (static_cast<int>(m.held.size()) == m.max) return;  // PoolTimeout, nothing changes
    if (!m.idle.empty() && m.idle.back() == m.epoch) {
      m.idle.pop_back();
      m.held.push_back({m.epoch, false});
      return;
    }
    if (!m.idle.empty()) m.idle.pop_back();  // broken: discarded on borrow
    if (auto delay = m.connect_delay()) {
      m.now_ms += *delay;
      m.held.push_back({m.epoch, false});
    } else {
      m.now_ms += 700;
    }
  }
  void run(const Model& m, Sut& s) const override {
    if (static_cast<int>(m.held.size()) == m.max) {
      RC_ASSERT_THROWS_AS(s.pool->acquire(0ms), clients::PoolTimeout);
    } else if (m.connect_delay() || (!m.idle.empty() && m.idle.back() == m.epoch)) {
      s.held.push_back(s.pool->acquire());
    } else {
      RC_ASSERT_THROWS_AS(s.pool->acquire(), clients::PoolUnavailable);
    }
    Model next = m;
    apply(next);
    check_bound(next, s);
  }
  void show(std::ostream& os) const override { os << "acquire"; }
};

struct Release : Command {
  std::size_t index = 0;
  explicit Release(const Model& m)
      : index(*rc::gen::inRange<std::size_t>(0, std::max<std::size_t>(m.held.size(), 1))) {}
  void checkPreconditions(const Model& m) const override { RC_PRE(index < m.held.size()); }
  void apply(Model& m) const override {
    const Lent lent = m.held[index];
    m.held.erase(m.held.begin() + static_cast<std::ptrdiff_t>(index));
    if (!lent.known_broken && static_cast<int>(m.idle.size()) < m.size) {
      m.idle.push_back(lent.epoch);  // an unnoticed broken one is caught on the next borrow
    }
  }
  void run(const Model& m, Sut& s) const override {
    s.held.erase(s.held.begin() + static_cast<std::ptrdiff_t>(index));
    Model next = m;
    apply(next);
    check_bound(next, s);
  }
  void show(std::ostream& os) const override { os << "release " << index; }
};

struct Query : Command {
  std::size_t index = 0;
  explicit Query(const Model& m)
      : index(*rc::gen::inRange<std::size_t>(0, std::max<std::size_t>(m.held.size(), 1))) {}
  void checkPreconditions(const Model& m) const override {
    RC_PRE(index < m.held.size());
    RC_PRE(!m.held[index].known_broken);
  }
  void apply(Model& m) const override {
    if (m.held[index].epoch != m.epoch) m.held[index].known_broken = true;
  }
  void run(const Model& m, Sut& s) const override {
    const bool ok = query_ok(*s.held[index]);
    RC_ASSERT(ok == (m.held[index].epoch == m.epoch));
    if (!ok) s.held[index].mark_broken();
  }
  void show(std::ostream& os) const override { os << "query " << index; }
};

struct Crash : Command {
  std::int64_t refuse_ms = *rc::gen::element<std::int64_t>(0, 50, 250, 1000);
  void apply(Model& m) const override {
    ++m.epoch;
    m.refuse_until_ms = m.now_ms + refuse_ms;
  }
  void run(const Model& m, Sut& s) const override {
    s.db.fake().crash(std::chrono::milliseconds(refuse_ms));
    Model next = m;
    apply(next);
    check_bound(next, s);
  }
  void show(std::ostream& os) const override { os << "crash, refusing " << refuse_ms << " ms"; }
};

struct AdminShutdown : Command {
  void apply(Model& m) const override { ++m.epoch; }
  void run(const Model& m, Sut& s) const override {
    s.db.fake().admin_shutdown();
    Model next = m;
    apply(next);
    check_bound(next, s);
  }
  void show(std::ostream& os) const override { os << "admin shutdown (57P01)"; }
};

// The crashed database comes back: time moves to the end of its refusal window.
struct Restart : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.refuse_until_ms > m.now_ms); }
  void apply(Model& m) const override { m.now_ms = m.refuse_until_ms; }
  void run(const Model& m, Sut& s) const override {
    s.db.clock().advance(std::chrono::milliseconds(m.refuse_until_ms - m.now_ms));
    Model next = m;
    apply(next);
    check_bound(next, s);
  }
  void show(std::ostream& os) const override { os << "restart"; }
};

struct AdvanceTime : Command {
  std::int64_t ms = *rc::gen::inRange<std::int64_t>(1, 2000);
  void apply(Model& m) const override { m.now_ms += ms; }
  void run(const Model& m, Sut& s) const override {
    s.db.clock().advance(std::chrono::milliseconds(ms));
    Model next = m;
    apply(next);
    check_bound(next, s);
  }
  void show(std::ostream& os) const override { os << "advance " << ms << " ms"; }
};

TEST(PoolStateMachineTest, PoolNeverExceedsItsBoundThroughCrashesAndRestarts) {
  FAULTLINE_COVERS("PT-INFRA-02.1");
  log::configure({log::Format::human, log::Level::error});  // connect failures are expected
  testing::check_property([] {
    Model model;
    model.size = *rc::gen::inRange(1, 4);
    model.max = model.size + *rc::gen::inRange(0, 3);
    Sut sut;
    auto config = small_pool(sut.db.conninfo(), model.size, model.max - model.size);
    config.reconnect_backoff = std::chrono::milliseconds(kBackoffMs);
    sut.pool = clients::create_connection_pool(config, sut.db.clock());
    rc::state::check(model, sut,
                     rc::state::gen::execOneOfWithArgs<Acquire, Acquire, Release, Query, Crash,
                                                       AdminShutdown, Restart, AdvanceTime>());
    sut.held.clear();
  });
  log::configure({});
}

}  // namespace
}  // namespace faultline::req_infra_02
