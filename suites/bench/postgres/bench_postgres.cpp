// Benchmarks of the PostgreSQL fake: a `SELECT 1` round trip through libpqxx against the fake
// and against a real PostgreSQL 15, and the fake's start and stop. Run by run.sh; never by ctest.
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>

#include <pqxx/pqxx>

#include "fakes/postgres/postgres_fake.h"
#include "fakes/postgres/testing/real_postgres.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/run_dir.h"

namespace {

using faultline::EventLoop;
using faultline::RealClock;
using faultline::pg::PostgresFake;

struct World {
  std::optional<faultline::RunDirectory> run;  // made before any thread starts
  std::unique_ptr<faultline::testing::RealPostgres> real;
  std::optional<std::string> real_missing;
  RealClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<PostgresFake> fake;

  static World& get() {
    static World* world = [] {
      auto* w = new World;
      w->run.emplace(faultline::RunDirectory::create("bench-postgres"));
      w->real_missing = faultline::testing::RealPostgres::unavailable();
      if (!w->real_missing) w->real = std::make_unique<faultline::testing::RealPostgres>(*w->run);
      w->loop = std::make_unique<EventLoop>();
      w->fake = std::make_unique<PostgresFake>(*w->loop, w->clock);
      w->fake->start();
      return w;
    }();
    return *world;
  }
};

void select_one(benchmark::State& state, const std::string& conninfo) {
  pqxx::connection c(conninfo);
  pqxx::nontransaction tx(c);
  for (auto _ : state) {
    pqxx::result r = tx.exec("SELECT 1");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SelectOne_Fake(benchmark::State& state) {
  select_one(state, World::get().fake->connection_string());
}

void BM_SelectOne_RealPostgres15(benchmark::State& state) {
  World& w = World::get();
  if (!w.real) {
    state.SkipWithError(w.real_missing->c_str());
    return;
  }
  select_one(state, w.real->connection_string());
}

void BM_FakeStart(benchmark::State& state) {
  World& w = World::get();
  for (auto _ : state) {
    PostgresFake fake(*w.loop, w.clock);
    fake.start();
    state.PauseTiming();
    fake.stop();
    state.ResumeTiming();
  }
}

void BM_FakeStop(benchmark::State& state) {
  World& w = World::get();
  for (auto _ : state) {
    state.PauseTiming();
    auto fake = std::make_unique<PostgresFake>(*w.loop, w.clock);
    fake->start();
    state.ResumeTiming();
    fake->stop();
    state.PauseTiming();
    fake.reset();
    state.ResumeTiming();
  }
}

BENCHMARK(BM_SelectOne_Fake)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SelectOne_RealPostgres15)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FakeStart)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FakeStop)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  World::get();  // the run directory and servers before benchmark's own setup
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  World& w = World::get();
  w.fake->stop();
  w.fake.reset();
  w.loop.reset();
  w.real.reset();
  w.run.reset();
  return 0;
}
