// Test support for the REQ-INFRA-02 pool suites: a PostgresFake on a simulated clock whose time
// steps also drain the fake's event loop, and small helpers.
//
// `LoopSyncedClock` wraps a ManualClock. The fake reopens its listener after a crash by posting
// to its loop from a clock timer; advancing time and then waiting for the loop to run what the
// timers posted makes "the server is back at t" exact, so backoff sequences are deterministic.
// It is also the clock the pool waits on (Clock::sleep_for), so the pool's backoff moves
// simulated time instead of sleeping.
//
// Thread safety: as ManualClock; `advance` may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "fakes/postgres/postgres_fake.h"
#include "harness/clients/postgres/connection_pool.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"

namespace faultline::req_infra_02 {

using namespace std::chrono_literals;

class LoopSyncedClock final : public Clock {
 public:
  explicit LoopSyncedClock(EventLoop& loop) : loop_(loop) {}
  TimePoint now() const override { return clock_.now(); }
  std::chrono::system_clock::time_point wall_now() const override { return clock_.wall_now(); }
  bool simulated() const override { return true; }
  TimerId call_at(TimePoint deadline, std::function<void()> fn) override {
    return clock_.call_at(deadline, std::move(fn));
  }
  bool cancel(TimerId id) override { return clock_.cancel(id); }
  void sleep_for(Duration d) override { advance(d); }
  void advance(Duration d) {
    clock_.advance(d);
    loop_.post_and_wait([] {});  // what the timers posted has run
  }

 private:
  EventLoop& loop_;
  ManualClock clock_;
};

// A fake PostgreSQL on its own loop and a LoopSyncedClock.
class FakeDatabase {
 public:
  FakeDatabase() : clock_(loop_) {
    fake_ = std::make_unique<pg::PostgresFake>(loop_, clock_);
    fake_->start();
  }
  ~FakeDatabase() { fake_->stop(); }
  pg::PostgresFake& fake() { return *fake_; }
  LoopSyncedClock& clock() { return clock_; }
  EventLoop& loop() { return loop_; }
  std::string conninfo() const { return fake_->connection_string(); }

 private:
  EventLoop loop_;
  LoopSyncedClock clock_;
  std::unique_ptr<pg::PostgresFake> fake_;
};

// True if "SELECT 1" runs on `c`.
inline bool query_ok(pqxx::connection& c) {
  try {
    pqxx::nontransaction tx(c);
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// The pool configuration the fake suites use: small, quick backoff, on the given conninfo.
inline clients::PoolConfig small_pool(const std::string& conninfo, int size, int overflow) {
  clients::PoolConfig config;
  config.conninfo = conninfo;
  config.size = size;
  config.max_overflow = overflow;
  config.timeout = 5s;
  config.reconnect_backoff = 100ms;
  config.connect_timeout_seconds = 5;
  return config;
}

}  // namespace faultline::req_infra_02
