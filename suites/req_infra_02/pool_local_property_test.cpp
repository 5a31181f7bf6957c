// PT-INFRA-02.1, the pool half, against a real PostgreSQL 15: a RapidCheck state machine over
// acquire, release, query and pg_terminate_backend (57P01 to every pool session), checking after
// every step that the server's pg_stat_activity counts exactly the pool's live connections and
// never more than size + max_overflow. (Crash/restart with simulated time is the fake's state
// machine; backup integrity, the other half of PT-INFRA-02.1, is in suites/req_infra_07.)
#include <algorithm>
#include <memory>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "fakes/postgres/testing/real_postgres.h"
#include "harness/core/clock.h"
#include "harness/testing/covers.h"
#include "harness/testing/process_testing.h"
#include "harness/testing/property.h"
#include "suites/req_infra_02/local_test_support.h"
#include "suites/req_infra_02/pool_test_support.h"

namespace faultline::req_infra_02 {
namespace {

using clients::PooledConnection;

struct LocalModel {
  int size = 1;
  int max = 1;
  int epoch = 0;          // bumped by every pg_terminate_backend round
  std::vector<int> idle;  // epochs, most recently returned last
  std::vector<int> held;  // epochs
  std::vector<bool> held_broken;
  int live() const {
    int n = static_cast<int>(std::count(idle.begin(), idle.end(), epoch));
    return n + static_cast<int>(std::count(held.begin(), held.end(), epoch));
  }
};

struct LocalSut {
  clients::ConnectionPool* pool = nullptr;
  ServerMonitor* monitor = nullptr;
  std::vector<PooledConnection> held;
};

using LocalCommand = rc::state::Command<LocalModel, LocalSut>;

void check_server(const LocalModel& m, LocalSut& s) {
  const auto stats = s.pool->stats();
  RC_ASSERT(stats.open_connections <= m.max);
  RC_ASSERT(stats.open_connections == static_cast<int>(m.idle.size() + m.held.size()));
  RC_ASSERT(stats.active_connections == static_cast<int>(m.held.size()));
  const int sessions = s.monitor->sessions();
  RC_ASSERT(sessions <= m.max);
  RC_ASSERT(sessions == m.live());
}

struct LocalAcquire : LocalCommand {
  void apply(LocalModel& m) const override {
    if (static_cast<int>(m.held.size()) == m.max) return;
    if (!m.idle.empty()) m.idle.pop_back();  // reused if alive, else discarded and replaced
    m.held.push_back(m.epoch);
    m.held_broken.push_back(false);
  }
  void run(const LocalModel& m, LocalSut& s) const override {
    if (static_cast<int>(m.held.size()) == m.max) {
      RC_ASSERT_THROWS_AS(s.pool->acquire(0ms), clients::PoolTimeout);
    } else {
      s.held.push_back(s.pool->acquire());
    }
    LocalModel next = m;
    apply(next);
    check_server(next, s);
  }
  void show(std::ostream& os) const override { os << "acquire"; }
};

struct LocalRelease : LocalCommand {
  std::size_t index;
  explicit LocalRelease(const LocalModel& m)
      : index(*rc::gen::inRange<std::size_t>(0, std::max<std::size_t>(m.held.size(), 1))) {}
  void checkPreconditions(const LocalModel& m) const override { RC_PRE(index < m.held.size()); }
  void apply(LocalModel& m) const override {
    const int epoch = m.held[index];
    const bool broken = m.held_broken[index];
    m.held.erase(m.held.begin() + static_cast<std::ptrdiff_t>(index));
    m.held_broken.erase(m.held_broken.begin() + static_cast<std::ptrdiff_t>(index));
    if (!broken && static_cast<int>(m.idle.size()) < m.size) m.idle.push_back(epoch);
  }
  void run(const LocalModel& m, LocalSut& s) const override {
    s.held.erase(s.held.begin() + static_cast<std::ptrdiff_t>(index));
    LocalModel next = m;
    apply(next);
    check_server(next, s);
  }
  void show(std::ostream& os) const override { os << "release " << index; }
};

struct LocalQuery : LocalCommand {
  std::size_t index;
  explicit LocalQuery(const LocalModel& m)
      : index(*rc::gen::inRange<std::size_t>(0, std::max<std::size_t>(m.held.size(), 1))) {}
  void checkPreconditions(const LocalModel& m) const override {
    RC_PRE(index < m.held.size());
    RC_PRE(!m.held_broken[index]);
  }
  void apply(LocalModel& m) const override {
    if (m.held[index] != m.epoch) m.held_broken[index] = true;
  }
  void run(const LocalModel& m, LocalSut& s) const override {
    const bool ok = query_ok(*s.held[index]);
    RC_ASSERT(ok == (m.held[index] == m.epoch));
    if (!ok) s.held[index].mark_broken();
  }
  void show(std::ostream& os) const override { os << "query " << index; }
};

struct TerminateBackends : LocalCommand {
  void apply(LocalModel& m) const override { ++m.epoch; }
  void run(const LocalModel& m, LocalSut& s) const override {
    RC_ASSERT(s.monitor->terminate_all() == m.live());
    LocalModel next = m;
    apply(next);
    check_server(next, s);
  }
  void show(std::ostream& os) const override { os << "pg_terminate_backend all (57P01)"; }
};

TEST(PoolLocalPropertyTest, ServerNeverSeesMoreSessionsThanTheBound) {
  FAULTLINE_COVERS("PT-INFRA-02.1");
  if (auto why = testing::RealPostgres::unavailable()) GTEST_SKIP() << *why;
  testing::RealPostgres pg(testing::test_run_directory());
  RealClock clock;
  testing::check_property([&] {
    LocalModel model;
    model.size = *rc::gen::inRange(1, 4);
    model.max = model.size + *rc::gen::inRange(0, 3);
    auto config = small_pool(pg.connection_string(), model.size, model.max - model.size);
    auto pool = clients::create_connection_pool(config, clock);
    ServerMonitor monitor(pg.connection_string(), config.name);
    LocalSut sut{pool.get(), &monitor, {}};
    // Sequences of up to 25 steps: each step costs real connects and queries.
    const auto commands = *rc::gen::resize(
        25, rc::state::gen::commands(
                model, rc::state::gen::execOneOfWithArgs<LocalAcquire, LocalAcquire, LocalRelease,
                                                         LocalQuery, TerminateBackends>()));
    rc::state::runAll(commands, model, sut);
    sut.held.clear();
    pool.reset();  // closes gracefully: the next case starts from an empty server
    RC_ASSERT(monitor.sessions() == 0);
  });
}

}  // namespace
}  // namespace faultline::req_infra_02
