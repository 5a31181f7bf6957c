// ConnectionPool: a bounded pool of libpqxx connections to one PostgreSQL database.
//
// Guarantees:
// - Never more than `size + max_overflow` connections open (counting ones being opened).
// - `acquire()` serves callers in FIFO order: a returned connection (or a freed slot) goes to the
//   longest waiter; nobody overtakes a queued caller. A caller that waits longer than the timeout
//   gets a typed `PoolTimeout`. The timeout runs on the pool's Clock: with a RealClock the waiter
//   blocks on a condition variable until a clock timer wakes it; with a ManualClock the waiter is
//   woken when the test advances the clock past its deadline, so tests never sleep.
// - A borrowed connection is validated first (socket check, then "SELECT 1" when
//   `ping_on_borrow`); a broken one is discarded and replaced by a new one.
// - Opening a connection that fails (database crashed, shutting down with 57P01, refusing) is
//   retried `reconnect_attempts` times with exponential backoff, waiting on the Clock
//   (`Clock::sleep_for`); if every attempt fails the caller gets `PoolUnavailable` and the slot
//   is freed for the next waiter.
// - Connections are returned by RAII (`PooledConnection`); one that broke while lent (or that
//   the holder marks broken) is closed instead of going back. Returned connections beyond `size`
//   idle ones are closed (overflow connections are transient, as in SQLAlchemy's QueuePool).
// - Waits, timeouts, opens, closes and reconnects are counted in `stats()` and, when a Journal is
//   given, journaled (kinds "pool.*", subject `PoolConfig::name`).
//
// Thread safety: every member function may be called from any thread, concurrently; many threads
// may acquire at once. A PooledConnection (and the pqxx::connection it lends) belongs to one
// thread at a time. The pool may be destroyed while connections are lent: they are closed when
// returned. Waiters still queued when the pool is destroyed get PoolUnavailable.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <pqxx/connection>

#include "harness/clients/postgres/pool_config.h"
#include "harness/core/error.h"

namespace faultline {
class Clock;
class Journal;
}  // namespace faultline

namespace faultline::clients {

// acquire() waited `timeout` without getting a connection.
class PoolTimeout : public Error {
 public:
  using Error::Error;
};

// The database could not be reached after every reconnect attempt (or the pool is closed).
class PoolUnavailable : public Error {
 public:
  using Error::Error;
};

// The seed's ConnectionPool contract plus the pool's metrics. Invariants:
// active_connections + available_connections == max_connections, open_connections <=
// max_connections, idle_connections <= open_connections.
struct PoolStats {
  int max_connections = 0;        // size + max_overflow (> 0)
  int active_connections = 0;     // lent to callers right now
  int available_connections = 0;  // max_connections - active_connections
  int connection_timeout = 0;     // acquire timeout in whole seconds, rounded up (> 0)
  std::chrono::milliseconds connection_timeout_ms{0};
  int open_connections = 0;  // idle + lent + being opened
  int idle_connections = 0;
  int waiting = 0;  // callers queued in acquire() right now
  // Counters since the pool was made.
  std::uint64_t waits = 0;             // acquires that had to queue
  std::uint64_t timeouts = 0;          // acquires that ended in PoolTimeout
  std::uint64_t opened = 0;            // connections opened
  std::uint64_t closed = 0;            // connections closed (broken, overflow, shutdown)
  std::uint64_t discarded_broken = 0;  // of those closed: found broken on borrow or return
  std::uint64_t connect_failures = 0;  // failed connect attempts
  std::uint64_t reconnects = 0;        // connects that succeeded after a failed attempt
};

class ConnectionPool;

// A connection on loan from the pool; returns it (or closes it, if broken) on destruction.
class PooledConnection {
 public:
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&& other) noexcept;
  ~PooledConnection();

  pqxx::connection& get() const { return *connection_; }
  pqxx::connection& operator*() const { return *connection_; }
  pqxx::connection* operator->() const { return connection_.get(); }

  // The holder saw this connection fail: it is closed on return instead of reused.
  void mark_broken() { broken_ = true; }
  // Returns the connection now (as the destructor would). Idempotent.
  void release();

 private:
  friend class ConnectionPool;
  struct Owner;  // the pool's shared state
  PooledConnection(std::shared_ptr<Owner> owner, std::unique_ptr<pqxx::connection> connection);

  std::shared_ptr<Owner> owner_;
  std::unique_ptr<pqxx::connection> connection_;
  bool broken_ = false;
};

class ConnectionPool {
 public:
  // Validates `config` (InputError on bad values) and opens no connection yet: connections are
  // opened on demand. `clock` and `journal` must outlive the pool.
  ConnectionPool(PoolConfig config, Clock& clock, Journal* journal = nullptr);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Waits up to the configured timeout (or `timeout`) for a connection. Throws PoolTimeout when
  // the wait runs out, PoolUnavailable when the database cannot be reached. A zero timeout never
  // waits.
  PooledConnection acquire();
  PooledConnection acquire(std::chrono::milliseconds timeout);
  // A connection if one can be had without queueing (it may still open one), else nullopt.
  std::optional<PooledConnection> try_acquire();

  // Opens connections until `size` are open (or idle); throws PoolUnavailable on failure.
  void warm_up();
  // Closes every idle connection (lent ones close when returned, if the pool is closing).
  void close_idle();

  PoolStats stats() const;
  const PoolConfig& config() const;

 private:
  using Owner = PooledConnection::Owner;
  std::shared_ptr<Owner> owner_;
};

// The seed's factory: validates `config` and makes the pool.
std::unique_ptr<ConnectionPool> create_connection_pool(PoolConfig config, Clock& clock,
                                                       Journal* journal = nullptr);

}  // namespace faultline::clients
