// ConnectionPool: FIFO waiters, slots, validation on borrow and RAII return (see
// connection_pool.h). Opening connections with backoff and checking them live in
// connection_opener.cpp.
//
// The state is one mutex over: the idle connections, `open` (idle + lent + being opened — a slot
// is reserved before a connection is opened, so the bound holds while connects are in flight)
// and the FIFO queue of waiters. A returned connection, or a slot freed by a discarded one, is
// handed straight to the head waiter, so nobody overtakes the queue. A waiter's deadline is a
// Clock timer that marks it timed out; timers hold the state only weakly.
#include "harness/clients/postgres/connection_pool.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <deque>
#include <vector>

#include "harness/clients/postgres/pool_state.h"
#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"

namespace faultline::clients {

using Connection = std::unique_ptr<pqxx::connection>;

// --- PooledConnection ---

PooledConnection::PooledConnection(std::shared_ptr<Owner> owner, Connection connection)
    : owner_(std::move(owner)), connection_(std::move(connection)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : owner_(std::move(other.owner_)),
      connection_(std::move(other.connection_)),
      broken_(other.broken_) {}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::move(other.owner_);
    connection_ = std::move(other.connection_);
    broken_ = other.broken_;
  }
  return *this;
}

PooledConnection::~PooledConnection() {
  release();
}

void PooledConnection::release() {
  if (owner_ && connection_) {
    const bool broken = broken_ || !connection_->is_open();
    owner_->give_back(std::move(connection_), broken);
  }
  owner_.reset();
  connection_.reset();
}

// --- the shared state ---

PooledConnection::Owner::Owner(PoolConfig c, Clock& k, Journal* j)
    : config(std::move(c)), clock(k), journal(j) {}

void PooledConnection::Owner::record(const char* kind, nlohmann::json fields) {
  if (journal != nullptr) journal->append(kind, config.name, std::move(fields));
}

void PooledConnection::Owner::serve_head_locked() {
  // A free slot (or idle connection) goes to the longest waiter.
  while (!waiters.empty()) {
    auto& head = waiters.front();
    if (!idle.empty()) {
      head->connection = std::move(idle.back());
      idle.pop_back();
    } else if (open < config.max_connections()) {
      ++open;
      head->slot = true;
    } else {
      return;
    }
    head->cv.notify_one();
    waiters.pop_front();
  }
}

void PooledConnection::Owner::give_back(Connection connection, bool broken) {
  const char* reason = nullptr;
  {
    std::lock_guard lock(mu);
    if (broken || closing) {
      reason = broken ? "broken" : "pool closed";
    } else if (!waiters.empty()) {
      auto head = std::move(waiters.front());
      waiters.pop_front();
      head->connection = std::move(connection);
      head->cv.notify_one();
      return;
    } else if (static_cast<int>(idle.size()) >= config.size) {
      reason = "overflow";
    } else {
      idle.push_back(std::move(connection));
      return;
    }
  }
  // The slot stays counted until the server has closed the session (close_connection).
  close_connection(std::move(connection));
  {
    std::lock_guard lock(mu);
    --open;
    ++counters.closed;
    if (broken) ++counters.discarded_broken;
    serve_head_locked();
  }
  record("pool.close", {{"reason", reason}});
}

void PooledConnection::Owner::release_slot() {
  std::lock_guard lock(mu);
  --open;
  serve_head_locked();
}

void PooledConnection::Owner::expire(const std::shared_ptr<Waiter>& waiter) {
  {
    std::lock_guard lock(mu);
    if (waiter->connection || waiter->slot || waiter->closed) return;  // served first
    waiter->timed_out = true;
    waiters.erase(std::remove(waiters.begin(), waiters.end(), waiter), waiters.end());
    ++counters.timeouts;
    waiter->cv.notify_one();
  }
}

PooledConnection PooledConnection::Owner::acquire(const std::shared_ptr<Owner>& self,
                                                  std::chrono::milliseconds timeout, bool may_wait,
                                                  bool* would_wait) {
  Connection connection;
  bool slot = false;
  {
    std::unique_lock lock(mu);
    if (closing) throw PoolUnavailable("connection pool '" + config.name + "' is closed");
    if (waiters.empty()) {
      if (!idle.empty()) {
        connection = std::move(idle.back());
        idle.pop_back();
      } else if (open < config.max_connections()) {
        ++open;
        slot = true;
      }
    }
    if (!connection && !slot) {
      if (!may_wait) {
        *would_wait = true;
        return PooledConnection(nullptr, nullptr);
      }
      const auto waited_for = std::to_string(timeout.count()) + " ms";
      const auto exhausted = [&] {
        return "connection pool '" + config.name + "' exhausted: no connection within " +
               waited_for + " (" + std::to_string(open) + " of " +
               std::to_string(config.max_connections()) + " open, all in use)";
      };
      if (timeout.count() <= 0) {
        ++counters.timeouts;
        const auto message = exhausted();
        lock.unlock();
        record("pool.timeout", {{"timeout_ms", 0}});
        throw PoolTimeout(message);
      }
      ++counters.waits;
      auto waiter = std::make_shared<Waiter>();
      waiters.push_back(waiter);
      std::weak_ptr<Owner> weak = self;
      waiter->timer = clock.call_at(clock.now() + timeout, [weak, waiter] {
        if (auto owner = weak.lock()) owner->expire(waiter);
      });
      record("pool.wait", {{"queued", waiters.size()}});
      waiter->cv.wait(lock, [&] {
        return waiter->connection || waiter->slot || waiter->timed_out || waiter->closed;
      });
      clock.cancel(waiter->timer);
      if (waiter->timed_out) {
        const auto message = exhausted();
        lock.unlock();
        record("pool.timeout", {{"timeout_ms", timeout.count()}});
        log::debug("postgres-pool", message);
        throw PoolTimeout(message);
      }
      if (waiter->closed) throw PoolUnavailable("connection pool '" + config.name + "' closed");
      connection = std::move(waiter->connection);
      slot = waiter->slot;
    }
  }
  // Outside the lock: check what we got, or open a new one in our slot.
  if (connection && !connection_usable(*connection, config.ping_on_borrow)) {
    close_connection(std::move(connection));
    {
      std::lock_guard lock(mu);
      ++counters.closed;
      ++counters.discarded_broken;
    }
    record("pool.close", {{"reason", "broken on borrow"}});
  }
  if (!connection) {
    try {
      connection = open_connection();
    } catch (...) {
      release_slot();
      throw;
    }
  }
  return PooledConnection(self, std::move(connection));
}

void PooledConnection::Owner::close(bool final) {
  std::deque<Connection> doomed;
  std::vector<TimerId> timers;
  {
    std::lock_guard lock(mu);
    if (final) {
      closing = true;
      for (auto& waiter : waiters) {
        waiter->closed = true;
        timers.push_back(waiter->timer);
        waiter->cv.notify_one();
      }
      waiters.clear();
    }
    doomed.swap(idle);  // their slots stay counted until they are closed
  }
  for (TimerId id : timers) clock.cancel(id);
  const auto n = doomed.size();
  for (auto& connection : doomed) close_connection(std::move(connection));
  {
    std::lock_guard lock(mu);
    open -= static_cast<int>(n);
    counters.closed += n;
    serve_head_locked();
  }
  if (n > 0)
    record("pool.close", {{"reason", final ? "pool closed" : "idle closed"}, {"count", n}});
}

// --- ConnectionPool ---

ConnectionPool::ConnectionPool(PoolConfig config, Clock& clock, Journal* journal) {
  config.validate();
  owner_ = std::make_shared<Owner>(std::move(config), clock, journal);
}

ConnectionPool::~ConnectionPool() {
  owner_->close(true);
}

PooledConnection ConnectionPool::acquire() {
  return acquire(owner_->config.timeout);
}

PooledConnection ConnectionPool::acquire(std::chrono::milliseconds timeout) {
  auto owner = owner_;
  return owner->acquire(owner, timeout, true, nullptr);
}

std::optional<PooledConnection> ConnectionPool::try_acquire() {
  auto owner = owner_;
  bool would_wait = false;
  auto connection = owner->acquire(owner, std::chrono::milliseconds(0), false, &would_wait);
  if (would_wait) return std::nullopt;
  return connection;
}

void ConnectionPool::warm_up() {
  for (;;) {
    {
      std::lock_guard lock(owner_->mu);
      if (owner_->open >= owner_->config.size) return;
      ++owner_->open;
    }
    Connection connection;
    try {
      connection = owner_->open_connection();
    } catch (...) {
      owner_->release_slot();
      throw;
    }
    owner_->give_back(std::move(connection), false);
  }
}

void ConnectionPool::close_idle() {
  owner_->close(false);
}

PoolStats ConnectionPool::stats() const {
  std::lock_guard lock(owner_->mu);
  PoolStats s = owner_->counters;
  const auto& config = owner_->config;
  s.max_connections = config.max_connections();
  s.open_connections = owner_->open;
  s.idle_connections = static_cast<int>(owner_->idle.size());
  s.active_connections = s.open_connections - s.idle_connections;
  s.available_connections = s.max_connections - s.active_connections;
  s.connection_timeout_ms = config.timeout;
  s.connection_timeout = static_cast<int>((config.timeout.count() + 999) / 1000);
  s.waiting = static_cast<int>(owner_->waiters.size());
  return s;
}

const PoolConfig& ConnectionPool::config() const {
  return owner_->config;
}

std::unique_ptr<ConnectionPool> create_connection_pool(PoolConfig config, Clock& clock,
                                                       Journal* journal) {
  return std::make_unique<ConnectionPool>(std::move(config), clock, journal);
}

}  // namespace faultline::clients
