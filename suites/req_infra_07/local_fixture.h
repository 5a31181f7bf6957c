// Test support for the REQ-INFRA-07 local suite: a real PostgreSQL 15 (RealPostgres) with an
// `orders` table, optionally archiving WAL into the backup directory, a PostgresTarget that can
// start a recovered server (a second RealPostgres from the unpacked base backup), and a
// BackupManager on the chosen clock (ManualClock for RPO logic, RealClock for drill figures).
//
// Thread safety: a fixture belongs to its test's thread (servers die with that thread).
#pragma once

#include <sys/stat.h>

#include <memory>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "fakes/postgres/testing/real_postgres.h"
#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/ops/alert_manager.h"
#include "harness/ops/backup/backup_manager.h"
#include "harness/ops/backup/digest.h"
#include "harness/ops/backup/postgres_target.h"
#include "harness/testing/process_testing.h"
#include "suites/req_infra_07/fake_fixture.h"

namespace faultline::ops::testing {

// A server recovered from a base backup plus archived WAL, as a RestoredDatabase.
class RecoveredServer final : public RestoredDatabase {
 public:
  RecoveredServer(RunDirectory& run, const std::filesystem::path& data) : pg_(run, options(data)) {}
  std::string connection_string() const override { return pg_.connection_string(); }
  TableDigests digests() override { return digest_public_tables(connection_string()); }

 private:
  static faultline::testing::RealPostgresOptions options(const std::filesystem::path& data) {
    faultline::testing::RealPostgresOptions o;
    o.data_source = data;
    o.ready_timeout = std::chrono::milliseconds(60000);  // replay first, then ready
    return o;
  }
  faultline::testing::RealPostgres pg_;
};

class LocalBackupWorld {
 public:
  LocalBackupWorld(RunDirectory& run, bool archiving, bool manual_clock)
      : manual_(midnight_2026_11_22()),
        clock_(manual_clock ? static_cast<Clock&>(manual_) : static_cast<Clock&>(real_)),
        journal_(clock_),
        alerts_(clock_, &journal_) {
    namespace fs = std::filesystem;
    // The server's OS user must reach wal/ to archive into it.
    const fs::path dir = tmp_.path() / "backups";
    fs::create_directories(dir / "wal");
    ::chmod(tmp_.path().c_str(), 0755);
    ::chmod(dir.c_str(), 0755);
    ::chmod((dir / "wal").c_str(), 0777);
    faultline::testing::RealPostgresOptions o;
    if (archiving) {
      o.settings = {"wal_level=replica", "archive_mode=on",
                    "archive_command=" + PostgresTarget::archive_command_for(dir / "wal")};
    }
    pg_ = std::make_unique<faultline::testing::RealPostgres>(run, o);
    exec("CREATE TABLE orders (id integer PRIMARY KEY, item text NOT NULL)");
    PostgresTargetOptions t;
    t.port = pg_->port();
    t.base_backup = archiving;
    t.start_server = [&run](const fs::path& data) -> std::unique_ptr<RestoredDatabase> {
      return std::make_unique<RecoveredServer>(run, data);
    };
    target_ = std::make_unique<PostgresTarget>(run, t);
    BackupConfig config;
    config.directory = dir;
    manager_ = std::make_unique<BackupManager>(config, clock_, &journal_, *target_, &alerts_);
  }
  ~LocalBackupWorld() { manager_.reset(); }

  void exec(const std::string& sql) {
    pqxx::connection c(pg_->connection_string());
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  }
  void insert(int id, const std::string& item) {
    exec("INSERT INTO orders VALUES (" + std::to_string(id) + ", '" + item + "')");
  }
  std::map<int, std::string> source_orders() { return orders_at(pg_->connection_string()); }
  std::filesystem::path dir() const { return manager_->config().directory; }
  std::filesystem::path dump_of(const std::string& id) const { return dir() / id / "dump.pgdump"; }

  BackupManager& manager() { return *manager_; }
  ManualClock& manual_clock() { return manual_; }
  Journal& journal() { return journal_; }
  AlertManager& alerts() { return alerts_; }
  faultline::testing::RealPostgres& server() { return *pg_; }

 private:
  ::faultline::testing::TempDir tmp_;
  ManualClock manual_;
  RealClock real_;
  Clock& clock_;
  Journal journal_;
  AlertManager alerts_;
  std::unique_ptr<faultline::testing::RealPostgres> pg_;
  std::unique_ptr<PostgresTarget> target_;
  std::unique_ptr<BackupManager> manager_;
};

}  // namespace faultline::ops::testing
