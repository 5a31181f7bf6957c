// Opening pool connections with exponential backoff on the harness Clock, and checking a borrowed
// connection (see pool_state.h).
//
// Backoff waits go through Clock::sleep_for: a RealClock sleeps the connecting thread; a
// ManualClock advances simulated time instead, so a crash with a refusal window on the same clock
// is waited out instantly and deterministically in tests.
#include <poll.h>
#include <sys/socket.h>

#include <pqxx/pqxx>

#include "harness/clients/postgres/pool_state.h"
#include "harness/core/log.h"

namespace faultline::clients {

bool connection_usable(pqxx::connection& connection, bool ping) {
  if (!connection.is_open()) return false;
  const int fd = connection.sock();
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) != 0) return false;  // EOF, an error, or a FATAL waiting: broken
  if (!ping) return true;
  try {
    pqxx::nontransaction tx(connection, "pool-ping");
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void close_connection(std::unique_ptr<pqxx::connection> connection) {
  if (!connection) return;
  const int fd = connection->is_open() ? connection->sock() : -1;
  if (fd >= 0) {
    // Terminate ('X', length 4), then wait for the server to close its end: a backend closes
    // its socket only when it exits, after it has left pg_stat_activity. So a slot is freed only
    // once the server no longer counts the session, and the server never sees more than the
    // bound. Bounded, in case the server is paused.
    static constexpr char kTerminate[] = {'X', 0, 0, 0, 4};
    if (::send(fd, kTerminate, sizeof kTerminate, MSG_NOSIGNAL) == sizeof kTerminate) {
      ::shutdown(fd, SHUT_WR);
      pollfd p{fd, POLLIN, 0};
      char buffer[512];
      for (int waited_ms = 0; waited_ms < kCloseWaitMs; waited_ms += 50) {
        if (::poll(&p, 1, 50) <= 0) continue;
        if (::recv(fd, buffer, sizeof buffer, 0) <= 0) break;  // EOF (or error): gone
      }
    }
  }
  connection.reset();  // libpq's own Terminate on a half-closed socket fails quietly
}

std::unique_ptr<pqxx::connection> PooledConnection::Owner::open_connection() {
  std::string last_error;
  for (int attempt = 0; attempt <= config.reconnect_attempts; ++attempt) {
    if (attempt > 0) {
      const auto delay = config.reconnect_backoff * (std::int64_t{1} << std::min(attempt - 1, 30));
      record("pool.reconnect", {{"attempt", attempt}, {"backoff_ms", delay.count()}});
      clock.sleep_for(delay);
    }
    {
      std::lock_guard lock(mu);
      if (closing) throw PoolUnavailable("connection pool '" + config.name + "' is closed");
    }
    try {
      auto connection = std::make_unique<pqxx::connection>(conninfo_with_password(config));
      // The pool, not libpqxx, decides when to reconnect: no silent reactivation of a broken
      // connection behind the pool's count.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      connection->inhibit_reactivation(true);
#pragma GCC diagnostic pop
      int open_now = 0;
      {
        std::lock_guard lock(mu);
        ++counters.opened;
        if (attempt > 0) ++counters.reconnects;
        open_now = open;
      }
      record("pool.open", {{"attempt", attempt}, {"open", open_now}});
      if (attempt > 0) {
        log::info("postgres-pool", "reconnected to the database",
                  {{"pool", config.name}, {"attempt", attempt}});
      }
      return connection;
    } catch (const std::exception& e) {
      last_error = e.what();  // libpq's message, on one line
      for (char& ch : last_error) {
        if (ch == '\n' || ch == '\t') ch = ' ';
      }
      while (!last_error.empty() && (last_error.back() == '\n' || last_error.back() == ' ')) {
        last_error.pop_back();
      }
      {
        std::lock_guard lock(mu);
        ++counters.connect_failures;
      }
      record("pool.connect_failed", {{"attempt", attempt}, {"error", last_error}});
      log::warn("postgres-pool", "connect failed",
                {{"pool", config.name}, {"attempt", attempt}, {"error", last_error}});
    }
  }
  throw PoolUnavailable("connection pool '" + config.name + "': could not connect to '" +
                        config.effective_conninfo() + "' after " +
                        std::to_string(config.reconnect_attempts + 1) + " attempts: " + last_error);
}

}  // namespace faultline::clients
