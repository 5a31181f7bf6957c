// Test support for the PostgreSQL fake's tests: a fake on its own loop and a manual clock, and
// helpers that run a libpqxx call and report the SQLSTATE it failed with.
// Thread safety: a fixture belongs to its test's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "fakes/postgres/postgres_fake.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"

namespace faultline::pg::testing {

// "ok", the SQLSTATE of an SQL error, or "broken: <message>" for a lost or refused connection.
inline std::string outcome(const std::function<void()>& fn) {
  try {
    fn();
    return "ok";
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate();
  } catch (const pqxx::serialization_failure&) {
    return "40001";  // libpqxx 6 gives these classes no sqlstate()
  } catch (const pqxx::deadlock_detected&) {
    return "40P01";
  } catch (const pqxx::transaction_rollback&) {
    return "40000";
  } catch (const pqxx::broken_connection& e) {
    return std::string("broken: ") + e.what();
  }
}

// Waits (bounded, returning as soon as it holds) for `condition`.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::seconds bound = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return condition();
}

class FakePostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<PostgresFake>(loop_, clock_, options());
    fake_->start();
  }
  void TearDown() override { fake_->stop(); }
  virtual PostgresFakeOptions options() { return {}; }
  std::string conninfo(const std::string& user = "postgres") const {
    return fake_->connection_string(user) + " connect_timeout=5";
  }

  ManualClock clock_;
  EventLoop loop_;
  std::unique_ptr<PostgresFake> fake_;
};

}  // namespace faultline::pg::testing
