// The ConnectionPool's shared state (internal to harness/clients/postgres; not for other code).
//
// One `Owner` is shared by the ConnectionPool, every PooledConnection on loan and (weakly) the
// waiters' deadline timers, so a connection returned after the pool is gone, or a timer firing
// while the pool is destroyed, finds valid state.
//
// Thread safety: every field below `mu` is guarded by it; `config`, `clock` and `journal` are
// immutable after construction. Member functions lock as they say.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/clients/postgres/connection_pool.h"
#include "harness/core/clock.h"

namespace faultline::clients {

// A caller queued in acquire(): served with a connection or a slot, or timed out, or told the
// pool closed.
struct Waiter {
  std::unique_ptr<pqxx::connection> connection;
  bool slot = false;  // may open a new connection (already counted in `open`)
  bool timed_out = false;
  bool closed = false;
  TimerId timer = 0;
  std::condition_variable cv;
};

// The libpq conninfo the pool connects with: effective_conninfo() plus the password from
// DB_PASSWORD when set. Never logged or journaled.
std::string conninfo_with_password(const PoolConfig& config);

// False when `connection` is closed, has something unsolicited to read (EOF, a FATAL such as
// 57P01, a notice — an idle connection has nothing to say), or, with `ping`, fails "SELECT 1".
bool connection_usable(pqxx::connection& connection, bool ping);

// How long close_connection waits for the server to close its end (real time).
inline constexpr int kCloseWaitMs = 2000;
// Sends Terminate, waits (bounded) until the server has closed the session, then frees the
// connection. Call without `mu` held.
void close_connection(std::unique_ptr<pqxx::connection> connection);

struct PooledConnection::Owner : std::enable_shared_from_this<Owner> {
  Owner(PoolConfig config, Clock& clock, Journal* journal);

  PooledConnection acquire(const std::shared_ptr<Owner>& self, std::chrono::milliseconds timeout,
                           bool may_wait, bool* would_wait);
  // Back from a PooledConnection: to the head waiter, the idle set, or closed.
  void give_back(std::unique_ptr<pqxx::connection> connection, bool broken);
  // A reserved slot whose connect failed.
  void release_slot();
  // The waiter's deadline timer fired.
  void expire(const std::shared_ptr<Waiter>& waiter);
  // Closes the idle connections; `final` also wakes every waiter with PoolUnavailable and refuses
  // further acquires.
  void close(bool final);
  // Opens a connection, retrying config.reconnect_attempts times with exponential backoff on the
  // clock; throws PoolUnavailable when every attempt failed. Call with a slot reserved, without
  // `mu` held. (connection_opener.cpp)
  std::unique_ptr<pqxx::connection> open_connection();
  void serve_head_locked();
  void record(const char* kind, nlohmann::json fields);

  const PoolConfig config;
  Clock& clock;
  Journal* const journal;

  mutable std::mutex mu;
  std::deque<std::unique_ptr<pqxx::connection>> idle;  // most recently returned at the back
  int open = 0;                                        // idle + lent + being opened
  bool closing = false;
  std::deque<std::shared_ptr<Waiter>> waiters;  // FIFO
  PoolStats counters;                           // only the counters are kept here
};

}  // namespace faultline::clients
