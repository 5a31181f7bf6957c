// BackupManager: scheduled, checksummed, restorable backups of one database, with continuous
// WAL archiving, RPO monitoring and recovery drills (REQ-INFRA-02 backup half, REQ-INFRA-07).
//
// Layout of the backup directory:
//   <id>/dump.sql | dump.pgdump    the dump (BackupTarget decides the format)
//   <id>/manifest.json             written last: SHA-256 and size of every file, the source's
//                                  row digests, clock and wall time. No manifest: not a backup.
//   <id>/restore_tested.json       present once a test restore of it matched the source rows
//   wal/<segments>, wal/manifest.json  archived WAL and its checksums, in archive order
// A backup counts as *verified* only after a test restore of it succeeded (PT-INFRA-07.1);
// `verify()` alone checks integrity (checksums, and that the dump parses: pg_restore --list on
// real dumps). `restore()` never restores a backup that fails verification: it falls back to the
// next older one and says which it used and why it skipped the others (ET-INFRA-02.2).
// Times for RPO/RTO are the Clock's; retention and the cron schedule use the Clock's wall time,
// so a ManualClock drives them in tests.
//
// Thread safety: every public member function may be called from any thread (one lock);
// scheduled work runs on the Clock's timer callbacks under the same lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/clock.h"
#include "harness/ops/backup/backup_config.h"
#include "harness/ops/backup/backup_target.h"

namespace faultline {
class Journal;
}

namespace faultline::ops {

class AlertManager;

// The seed's contract.
struct BackupResult {
  std::string backup_id;
  std::string timestamp;  // ISO 8601 UTC, the Clock's wall time
  std::uint64_t size_bytes = 0;
  std::string status;    // "success" | "failed"
  std::string location;  // the backup's directory
  std::string error;     // why it failed (empty on success)
  TimePoint taken_at{};  // on the Clock
};

struct BackupInfo {
  std::string backup_id;
  std::uint64_t seq = 0;
  TimePoint taken_at{};
  std::string timestamp;
  bool has_manifest = false;
  bool restore_tested = false;  // "verified": a test restore matched the source
};

struct VerifyResult {
  std::string backup_id;
  bool ok = false;
  std::string problem;  // "corrupted: ..." when not ok
};

struct RestoreOptions {
  std::optional<std::string> backup_id;  // start from this backup; unset: the newest
  bool replay_wal = false;               // replay archived WAL after the base backup
  std::optional<TimePoint> target_time;  // point in time (Clock) to stop at; unset: the newest
};

struct SkippedBackup {
  std::string backup_id;
  std::string reason;
};

struct RestoreResult {
  bool ok = false;        // a database was restored
  bool verified = false;  // rows match the source at the recovered point and no WAL was lost
  std::string backup_id;  // the backup used
  std::vector<SkippedBackup> skipped;
  std::size_t wal_segments_applied = 0;
  std::optional<TimePoint> recovered_to;  // the point the restored database reflects
  std::optional<TimePoint> requested;     // the point asked for (or the newest archived)
  Duration lost_window{0};                // requested - recovered_to when WAL stopped short
  std::string problem;
  std::unique_ptr<RestoredDatabase> database;
};

struct RpoReport {
  std::optional<TimePoint> newest_recoverable;
  std::string source;  // "backup <id>" or "wal <file>"; "none"
  Duration rpo{0};     // now - newest_recoverable (or since the manager started, if none)
  Duration target{0};
  bool violated = false;
};

struct DrillOptions {
  std::function<void()> destroy;                               // lose the database
  std::function<std::string(RestoredDatabase&)> health_check;  // "" when healthy
};

struct DrillReport {
  RestoreResult restore;
  Duration rto{0};  // from the loss to a verified, healthy restored database, on the Clock
  Duration rpo{0};  // from the loss back to the recovered point
  bool rto_met = false, rpo_met = false, passed = false;
  std::string problem;
};

class BackupManager {
 public:
  // Throws UsageError on an invalid configuration (see BackupConfig::validate).
  BackupManager(BackupConfig config, Clock& clock, Journal* journal, BackupTarget& target,
                AlertManager* alerts = nullptr);
  ~BackupManager();  // cancels scheduled work
  BackupManager(const BackupManager&) = delete;
  BackupManager& operator=(const BackupManager&) = delete;

  BackupResult create_backup();
  VerifyResult verify(const std::string& backup_id);
  RestoreResult restore(const RestoreOptions& options = {});
  // Restores `backup_id` alone and discards the database; marks it verified if the rows match.
  RestoreResult test_restore(const std::string& backup_id);
  std::vector<BackupInfo> list();
  // Removes backups older than retention_days (by the Clock's wall time), always keeping the
  // newest backup with a manifest, and WAL segments older than the oldest remaining backup.
  std::vector<std::string> apply_retention();

  // Ships committed changes as WAL; returns how many segments were archived.
  std::size_t archive_wal();
  // Continuous archiving every config.wal_archive_interval on the Clock, until stopped.
  void start_wal_archiving();
  void stop_wal_archiving();
  // create_backup + apply_retention at every BACKUP_SCHEDULE time on the Clock's wall time.
  void start_schedule();
  void stop_schedule();
  std::optional<std::chrono::system_clock::time_point> next_scheduled_backup() const;

  // Newest recoverable point vs now; journals it, and alerts (critical) when RPO > target.
  RpoReport rpo_check();
  // Destroys (through the caller), restores the newest backup plus WAL, checks health; journals
  // RTO and RPO.
  DrillReport recovery_drill(const DrillOptions& options = {});

  const BackupConfig& config() const { return config_; }

 private:
  struct Manifest;
  struct WalEntry;
  std::optional<std::string> integrity_problem(const Manifest& m);
  std::vector<Manifest> manifests_newest_first();
  std::vector<WalEntry> read_wal_manifest();
  void write_wal_manifest(const std::vector<WalEntry>& entries);
  RestoreResult restore_locked(const RestoreOptions& options);
  std::size_t archive_wal_locked();
  void journal(const std::string& kind, const std::string& subject, nlohmann::json fields);
  void schedule_next_backup();
  void schedule_next_archive();

  BackupConfig config_;
  CronSchedule schedule_;
  Clock& clock_;
  Journal* journal_;
  BackupTarget& target_;
  AlertManager* alerts_;
  TimePoint started_;
  mutable std::recursive_mutex mu_;
  std::optional<TimerId> backup_timer_, archive_timer_;
  std::optional<std::chrono::system_clock::time_point> next_backup_;
  bool rpo_alert_firing_ = false;
  // Timer callbacks hold this while they run; the destructor waits for it and marks the manager
  // gone, so a callback firing on a RealClock thread never touches a destroyed manager.
  struct CallbackGuard {
    std::mutex mu;
    bool alive = true;
  };
  std::shared_ptr<CallbackGuard> guard_ = std::make_shared<CallbackGuard>();
};

}  // namespace faultline::ops
