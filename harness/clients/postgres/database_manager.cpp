// DatabaseManager (see database_manager.h).
#include "harness/clients/postgres/database_manager.h"

#include <pqxx/pqxx>

#include "harness/core/clock.h"

namespace faultline::clients {

nlohmann::json DatabaseHealth::to_json() const {
  nlohmann::json j = {{"healthy", healthy},
                      {"latency_ms", std::chrono::duration<double, std::milli>(latency).count()},
                      {"pool",
                       {{"max_connections", pool.max_connections},
                        {"active_connections", pool.active_connections},
                        {"available_connections", pool.available_connections},
                        {"connection_timeout", pool.connection_timeout}}}};
  if (!server_version.empty()) j["server_version"] = server_version;
  if (!error.empty()) j["error"] = error;
  return j;
}

DatabaseManager::DatabaseManager(PoolConfig config, Clock& clock, Journal* journal)
    : config_(std::move(config)), clock_(clock), journal_(journal) {
  config_.validate();
}

DatabaseManager::~DatabaseManager() = default;

ConnectionPool& DatabaseManager::create_connection_pool() {
  std::lock_guard lock(mu_);
  if (!pool_) pool_ = clients::create_connection_pool(config_, clock_, journal_);
  return *pool_;
}

DatabaseHealth DatabaseManager::health_check(std::chrono::milliseconds timeout) {
  auto& pool = create_connection_pool();
  DatabaseHealth health;
  const auto start = clock_.now();
  try {
    auto connection = timeout.count() > 0 ? pool.acquire(timeout) : pool.acquire();
    try {
      pqxx::nontransaction tx(connection.get(), "health-check");
      tx.exec1("SELECT 1");
      health.server_version = std::to_string(connection->server_version());
      health.healthy = true;
    } catch (...) {
      connection.mark_broken();
      throw;
    }
  } catch (const std::exception& e) {
    health.error = e.what();
    while (!health.error.empty() && health.error.back() == '\n') health.error.pop_back();
  }
  health.latency = clock_.now() - start;
  health.pool = pool.stats();
  return health;
}

int DatabaseManager::server_session_count() {
  auto connection = create_connection_pool().acquire();
  pqxx::nontransaction tx(connection.get(), "session-count");
  const auto row = tx.exec1("SELECT count(*) FROM pg_stat_activity WHERE application_name = " +
                            tx.quote(config_.name));
  return row[0].as<int>();
}

}  // namespace faultline::clients
