// PostgresTarget: backs up a real PostgreSQL with `pg_dump -Fc`, checks dumps with
// `pg_restore --list`, and restores into a freshly created database on the same server.
//
// A dump runs inside a REPEATABLE READ transaction that exports its snapshot
// (pg_export_snapshot) and hands it to pg_dump --snapshot, and the row digests of every table
// in schema public are read in that same transaction: the digests describe exactly the dumped
// rows. Restored databases are named faultline_restore_<pid>_<n>, dropped when their handle goes,
// and registered as heal actions of the RunDirectory so a killed harness drops them too.
// The tools run through the Supervisor (bounded by `tool_timeout`); a password comes only from
// the environment (PGPASSWORD), never from this object.
//
// WAL archiving: the server must run with archive_mode=on and an archive_command that copies
// into the backup directory's wal/ (see archive_command_for); archive_wal() switches the WAL
// segment (pg_switch_wal), waits, bounded, for the archiver to ship it, and records the row
// digests right after the switch (exact when nothing commits meanwhile; a commit in between can
// only make a restore fail its check, never pass wrongly). restore_with_wal unpacks the base
// backup, puts the checked segments (and no others) where restore_command finds them, writes
// recovery.signal and lets PostgreSQL replay to the end of that WAL and promote; the server is
// started by options.start_server.
//
// Thread safety: as BackupTarget (one BackupManager, under its lock).
#pragma once

#include <chrono>
#include <functional>
#include <set>

#include "harness/ops/backup/backup_target.h"

namespace faultline {
class RunDirectory;
}

namespace faultline::ops {

struct PostgresTargetOptions {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string user = "postgres";
  std::string database = "postgres";
  std::filesystem::path bin_dir = "/usr/lib/postgresql/15/bin";
  std::chrono::milliseconds tool_timeout{120000};
  // Also take a physical base backup (pg_basebackup -Ft -X none: base.tar) with every dump, so
  // archived WAL can be replayed onto it (point-in-time restore).
  bool base_backup = false;
  // Starts a server on an unpacked data directory set up for recovery and returns the database
  // `database` on it (tests: a RealPostgres with data_source). Needed by restore_with_wal.
  std::function<std::unique_ptr<RestoredDatabase>(const std::filesystem::path& data_dir)>
      start_server;
};

class PostgresTarget final : public BackupTarget {
 public:
  // Throws UsageError if the PostgreSQL client tools are missing from bin_dir.
  PostgresTarget(RunDirectory& run, PostgresTargetOptions options);

  // The archive_command that ships WAL into `wal_dir` (never overwriting a segment).
  static std::string archive_command_for(const std::filesystem::path& wal_dir);

  std::string kind() const override { return "postgres"; }
  std::string dump_file_name() const override { return "dump.pgdump"; }
  std::string format() const override { return "custom"; }
  TableDigests dump(const std::filesystem::path& file) override;
  std::optional<std::string> check_dump(const std::filesystem::path& file) override;
  std::unique_ptr<RestoredDatabase> restore(const std::filesystem::path& file) override;
  std::vector<Segment> archive_wal(const std::filesystem::path& wal_dir) override;
  std::optional<std::string> check_segment(const std::filesystem::path& file) override;
  std::unique_ptr<RestoredDatabase> restore_with_wal(
      const std::filesystem::path& base, const std::vector<std::filesystem::path>& segments,
      const nlohmann::json& stop_position) override;

  std::string connection_string(const std::string& database) const;

 private:
  // Runs a PostgreSQL tool to completion; returns "" or the failure with the tail of its output.
  std::string run_tool(std::vector<std::string> argv);

  RunDirectory& run_;
  PostgresTargetOptions options_;
  std::set<std::string> archived_;  // WAL files already reported
  int restores_ = 0;
};

}  // namespace faultline::ops
