// Test support for the REQ-INFRA-07 fake suite: a PostgresFake source with an `orders` table on
// its own EventLoop, a ManualClock starting at 2026-11-22 00:00 UTC, a Journal, an AlertManager, a
// backup directory, and a BackupManager over a FakePostgresTarget.
//
// Thread safety: a fixture belongs to its test's thread (the fake runs on the loop thread).
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "fakes/postgres/postgres_fake.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "harness/ops/alert_manager.h"
#include "harness/ops/backup/backup_manager.h"
#include "harness/ops/backup/fake_postgres_target.h"
#include "harness/testing/process_testing.h"

namespace faultline::ops::testing {

inline std::chrono::system_clock::time_point midnight_2026_11_22() {
  return std::chrono::sys_days(std::chrono::year(2026) / 11 / 22);
}

// The rows of `orders`, id -> item, read through libpqxx.
inline std::map<int, std::string> orders_at(const std::string& conninfo) {
  pqxx::connection c(conninfo + " connect_timeout=10");
  pqxx::read_transaction tx(c);
  std::map<int, std::string> out;
  for (const auto& row : tx.exec("SELECT id, item FROM orders"))
    out[row[0].as<int>()] = row[1].c_str();
  return out;
}

// Overwrites `file` with `bytes` (truncation, foreign content...).
inline void overwrite(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline std::string contents(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class FakeBackupWorld {
 public:
  explicit FakeBackupWorld(BackupConfig config = {})
      : clock_(midnight_2026_11_22()), journal_(clock_), alerts_(clock_, &journal_) {
    fake_ = std::make_unique<pg::PostgresFake>(loop_, clock_);
    fake_->start();
    exec("CREATE TABLE orders (id integer PRIMARY KEY, item text NOT NULL)");
    target_ = std::make_unique<FakePostgresTarget>(loop_, clock_, *fake_);
    if (config.directory.empty()) config.directory = tmp_.path() / "backups";
    manager_ = std::make_unique<BackupManager>(config, clock_, &journal_, *target_, &alerts_);
  }
  ~FakeBackupWorld() {
    manager_.reset();
    fake_->stop();
  }

  void exec(const std::string& sql) {
    pqxx::connection c(fake_->connection_string() + " connect_timeout=10");
    pqxx::nontransaction tx(c);  // autocommit: committed (acknowledged) when exec returns
    tx.exec(sql);
  }
  void insert(int id, const std::string& item) {
    exec("INSERT INTO orders VALUES (" + std::to_string(id) + ", '" + item + "')");
  }
  std::map<int, std::string> source_orders() { return orders_at(fake_->connection_string()); }
  std::filesystem::path dir() const { return manager_->config().directory; }
  std::filesystem::path dump_of(const std::string& id) const { return dir() / id / "dump.sql"; }

  BackupManager& manager() { return *manager_; }
  ManualClock& clock() { return clock_; }
  Journal& journal() { return journal_; }
  AlertManager& alerts() { return alerts_; }
  pg::PostgresFake& fake() { return *fake_; }

 private:
  ::faultline::testing::TempDir tmp_;
  EventLoop loop_;
  ManualClock clock_;
  Journal journal_;
  AlertManager alerts_;
  std::unique_ptr<pg::PostgresFake> fake_;
  std::unique_ptr<FakePostgresTarget> target_;
  std::unique_ptr<BackupManager> manager_;
};

}  // namespace faultline::ops::testing
