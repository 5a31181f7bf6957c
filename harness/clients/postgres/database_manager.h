// DatabaseManager: the seed's entry point to one PostgreSQL database — owns its ConnectionPool,
// answers health checks and counts the pool's sessions as the server sees them.
//
// `create_connection_pool()` makes the pool on first call (the seed's DatabaseManager API) and
// returns the same one afterwards. `health_check()` borrows a connection and runs "SELECT 1",
// timed on the harness Clock; it never throws — a failure is reported in the result, as a health
// endpoint needs. `server_session_count()` asks pg_stat_activity how many sessions carry the
// pool's application_name: the server's own view of the bound the pool promises.
//
// Thread safety: every member function may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/clients/postgres/connection_pool.h"

namespace faultline::clients {

struct DatabaseHealth {
  bool healthy = false;
  std::chrono::nanoseconds latency{0};  // on the harness Clock
  std::string server_version;           // libpq's server version number, e.g. "150004"
  std::string error;                    // why not healthy
  PoolStats pool;

  nlohmann::json to_json() const;
};

class DatabaseManager {
 public:
  // Validates `config` now (InputError), so a bad configuration fails at construction.
  DatabaseManager(PoolConfig config, Clock& clock, Journal* journal = nullptr);
  ~DatabaseManager();
  DatabaseManager(const DatabaseManager&) = delete;
  DatabaseManager& operator=(const DatabaseManager&) = delete;

  ConnectionPool& create_connection_pool();
  // Borrows with `timeout` (default: the pool's) and runs SELECT 1.
  DatabaseHealth health_check(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // Sessions in pg_stat_activity whose application_name is the pool's name (including the one
  // asking, which is borrowed from the pool). Throws what acquire() throws, or pqxx errors.
  int server_session_count();

  const PoolConfig& config() const { return config_; }

 private:
  PoolConfig config_;
  Clock& clock_;
  Journal* journal_;
  std::mutex mu_;
  std::unique_ptr<ConnectionPool> pool_;
};

}  // namespace faultline::clients
