// PoolConfig: the typed configuration of a ConnectionPool, from code or from the environment.
//
// Defaults are the seed's INFRASTRUCTURE_CONFIG: DB_POOL_SIZE 10, DB_MAX_OVERFLOW 20,
// DB_POOL_TIMEOUT 30 s; a broken database is retried 3 times with exponential backoff. The
// password never lives in `conninfo`: it is read from the environment (DB_PASSWORD, else libpq's
// own PGPASSWORD) when a connection is opened, and `validate()` refuses a conninfo that carries
// one, so no config dump, log line or journal event can leak it.
//
// Thread safety: a PoolConfig is a value; `from_env` reads the process environment.
#pragma once

#include <chrono>
#include <string>

namespace faultline::clients {

struct PoolConfig {
  // libpq connection string without a password, e.g. "host=127.0.0.1 port=5432 user=app
  // dbname=orders". `from_env` builds it from DB_HOST, DB_PORT, DB_USER, DB_NAME.
  std::string conninfo;
  // Connections kept open when idle.
  int size = 10;
  // Extra connections opened under load and closed when returned to a full idle set.
  int max_overflow = 20;
  // How long acquire() waits for a connection before PoolTimeout, on the pool's Clock.
  std::chrono::milliseconds timeout{30000};
  // After a failed connect: this many more attempts, waiting backoff, 2*backoff, 4*backoff...
  // on the pool's Clock.
  int reconnect_attempts = 3;
  std::chrono::milliseconds reconnect_backoff{100};
  // libpq connect_timeout in seconds, added to conninfo unless it names one (0: libpq default).
  int connect_timeout_seconds = 10;
  // Borrowed connections are checked with a "SELECT 1" round trip (as SQLAlchemy's pre-ping);
  // a socket check (EOF or an unsolicited FATAL waiting to be read) is always done.
  bool ping_on_borrow = true;
  // application_name of the pool's sessions (how pg_stat_activity tells them apart), and the
  // subject of the pool's journal events and log lines.
  std::string name = "faultline-pool";

  // size + max_overflow: the most connections the pool ever has open.
  int max_connections() const { return size + max_overflow; }

  // Throws InputError (location "pool config", or the variable's name) with a clear message for
  // a size < 1, max_overflow < 0, timeout <= 0, reconnect_attempts < 0, negative backoff or
  // connect timeout, an empty conninfo or name, or a conninfo that contains a password.
  void validate() const;

  // Defaults overridden by DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_TIMEOUT (seconds),
  // DB_RECONNECT_ATTEMPTS, DB_RECONNECT_BACKOFF_MS, and the connection settings DB_HOST
  // (127.0.0.1), DB_PORT (5432), DB_USER (postgres), DB_NAME (postgres) — or DATABASE_CONNINFO
  // for a whole conninfo. A value that is not an integer is an InputError naming the variable.
  // The result is validated.
  static PoolConfig from_env();

  // `conninfo` plus connect_timeout and application_name where it does not name them already.
  // Never contains the password (that is added only inside the pool, at connect time).
  std::string effective_conninfo() const;
};

}  // namespace faultline::clients
