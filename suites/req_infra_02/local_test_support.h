// Test support for the REQ-INFRA-02 local suite (a real PostgreSQL 15): the seed's environment,
// a monitor session that counts the pool's sessions in pg_stat_activity, terminates them or
// crashes the server, a sampler thread, and an idempotent order write with retries.
//
// Thread safety: a ServerMonitor is used by one thread at a time; SessionSampler owns its own.
#pragma once

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "harness/clients/postgres/connection_pool.h"
#include "harness/testing/process_testing.h"

namespace faultline::req_infra_02 {

// Sets environment variables and restores them when destroyed.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(ScopedEnv&&) = default;
  ScopedEnv& operator=(ScopedEnv&&) = delete;
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }
  void set(const std::string& name, const std::string& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// The seed's INFRASTRUCTURE_CONFIG for the pool, pointed at a local server.
inline ScopedEnv seed_environment(std::uint16_t port) {
  ScopedEnv env;
  env.set("DB_POOL_SIZE", "10");
  env.set("DB_MAX_OVERFLOW", "20");
  env.set("DB_POOL_TIMEOUT", "30");
  env.set("DB_HOST", "127.0.0.1");
  env.set("DB_PORT", std::to_string(port));
  env.set("DB_USER", "postgres");
  env.set("DB_NAME", "postgres");
  return env;
}

// A session of its own (application_name faultline-monitor) that reconnects when the server
// dropped it; each call retries for a bounded time.
class ServerMonitor {
 public:
  ServerMonitor(std::string conninfo, std::string pool_name)
      : conninfo_(std::move(conninfo) + " application_name=faultline-monitor"),
        pool_name_(std::move(pool_name)) {}

  // Sessions the server counts for the pool (backends still exiting included).
  int sessions() { return count("SELECT count(*) FROM pg_stat_activity WHERE " + pool_filter()); }
  // pg_terminate_backend on every pool session (FATAL 57P01); waits until they are gone.
  int terminate_all() {
    const int n = count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE " +
                        pool_filter());
    testing::wait_until([&] { return sessions() == 0; }, std::chrono::seconds(30));
    return n;
  }
  // A real crash: SIGKILL this monitor's own backend; the postmaster then terminates every
  // session, runs crash recovery and accepts connections again. With `wait_for_recovery`, true
  // once it accepts again; without, true once the backend is killed.
  bool crash_server(bool wait_for_recovery) {
    const int pid = count("SELECT pg_backend_pid()");
    if (pid <= 0 || ::kill(pid, SIGKILL) != 0) return false;
    connection_.reset();
    return !wait_for_recovery || count("SELECT 1") == 1;
  }
  int count_orders() { return count("SELECT count(*) FROM orders"); }

  // Runs a one-value query, reconnecting and retrying up to 60 s; -1 if it never worked.
  int count(const std::string& sql, std::chrono::seconds bound = std::chrono::seconds(60)) {
    int value = -1;
    testing::wait_until(
        [&] {
          try {
            if (!connection_) connection_ = std::make_unique<pqxx::connection>(conninfo_);
            pqxx::nontransaction tx(*connection_);
            value = tx.exec1(sql)[0].as<int>();
            return true;
          } catch (const std::exception&) {
            connection_.reset();
            return false;
          }
        },
        bound);
    return value;
  }

 private:
  std::string pool_filter() const {
    return "application_name = '" + pool_name_ + "'";  // our own name: no quotes in it
  }
  std::string conninfo_;
  std::string pool_name_;
  std::unique_ptr<pqxx::connection> connection_;
};

// Samples the server's count of pool sessions and the pool's own open count until stopped.
class SessionSampler {
 public:
  SessionSampler(const std::string& conninfo, const clients::ConnectionPool& pool)
      : monitor_(conninfo, pool.config().name), pool_(pool) {
    thread_ = std::thread([this] {
      while (!stop_) {
        const int open = pool_.stats().open_connections;
        max_open_ = std::max(max_open_.load(), open);
        const int n =
            monitor_.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                               pool_.config().name + "'",
                           std::chrono::seconds(0));
        if (n >= 0) {
          max_sessions_ = std::max(max_sessions_.load(), n);
          ++samples_;
        }
      }
    });
  }
  ~SessionSampler() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int max_sessions() const { return max_sessions_; }
  int max_pool_open() const { return max_open_; }
  int samples() const { return samples_; }

 private:
  ServerMonitor monitor_;
  const clients::ConnectionPool& pool_;
  std::atomic<bool> stop_{false};
  std::atomic<int> max_sessions_{0};
  std::atomic<int> max_open_{0};
  std::atomic<int> samples_{0};
  std::thread thread_;
};

// Writes order (writer, seq) through the pool, idempotently (a retry after an unknown outcome
// cannot duplicate it); retries through broken connections and an unreachable database, up to
// 100 attempts (each PoolUnavailable has already waited out the pool's backoff). True if
// committed.
inline bool write_order(clients::ConnectionPool& pool, int writer, int seq) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    try {
      auto c = pool.acquire();
      try {
        pqxx::work tx(*c);
        tx.exec("INSERT INTO orders (writer, seq, qty) VALUES (" + std::to_string(writer) + ", " +
                std::to_string(seq) + ", " + std::to_string(1 + seq % 5) +
                ") ON CONFLICT DO NOTHING");
        tx.commit();
        return true;
      } catch (const pqxx::failure&) {
        // Broken connection, 57P01/57P03 around the crash, or in doubt at COMMIT: the session
        // is gone, and the write is retried (it is idempotent).
        c.mark_broken();
      }
    } catch (const clients::PoolUnavailable&) {
    }
  }
  return false;
}

}  // namespace faultline::req_infra_02
