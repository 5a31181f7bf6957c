// BackupTarget: the database a BackupManager backs up, and where it restores to.
//
// Two implementations: FakePostgresTarget (fakes/postgres, dumped as SQL, restored into a fresh
// PostgresFake) and PostgresTarget (a real PostgreSQL, dumped with `pg_dump -Fc`, checked with
// `pg_restore --list`, restored into a freshly created database). A dump comes with the row
// digests of the source taken in the same consistent snapshot, so a restore can be checked row
// for row against what was backed up. Continuous WAL archiving (REQ-INFRA-07) goes through
// `archive_wal` / `replay_wal`; see the README for what each target really archives.
//
// Thread safety: a target is driven by one BackupManager, under its lock.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace faultline::ops {

// One table's contents, order-independent: the row count and the SHA-256 of its sorted rows.
struct TableDigest {
  std::size_t rows = 0;
  std::string sha256;
  bool operator==(const TableDigest&) const = default;
};
using TableDigests = std::map<std::string, TableDigest>;
nlohmann::json to_json(const TableDigests& digests);
TableDigests table_digests_from_json(const nlohmann::json& j);
// Describes the first difference ("" when equal), e.g. "table orders: 41 rows, expected 42".
std::string describe_difference(const TableDigests& actual, const TableDigests& expected);

// A database produced by a restore. Dropped (or stopped) when the handle goes.
class RestoredDatabase {
 public:
  virtual ~RestoredDatabase() = default;
  virtual std::string connection_string() const = 0;
  virtual TableDigests digests() = 0;
};

class BackupTarget {
 public:
  virtual ~BackupTarget() = default;
  virtual std::string kind() const = 0;            // "fake-postgres" | "postgres"
  virtual std::string dump_file_name() const = 0;  // "dump.sql" | "dump.pgdump"
  virtual std::string format() const = 0;          // "sql" | "custom"

  // Writes a consistent dump to `file` and returns the source's row digests in the same
  // snapshot. Throws faultline::Error on failure.
  virtual TableDigests dump(const std::filesystem::path& file) = 0;
  // Beyond the checksum: is this a dump this target can restore? Returns the problem, if any.
  virtual std::optional<std::string> check_dump(const std::filesystem::path& file) = 0;
  // Restores `file` into a fresh database. Throws faultline::Error if it does not load.
  virtual std::unique_ptr<RestoredDatabase> restore(const std::filesystem::path& file) = 0;

  // --- continuous archiving (REQ-INFRA-07) ---
  // Ships what has been committed since the last call as WAL segment files in `wal_dir`.
  // Returns the new segment files (in order) and, per file, the row digests of the source as of
  // the end of that segment when the target can tell them (the fake can; a real server cannot).
  struct Segment {
    std::filesystem::path file;
    std::optional<TableDigests> digests;
    nlohmann::json position;  // e.g. {"lsn": "0/3000000"}; recorded in the WAL manifest
  };
  virtual std::vector<Segment> archive_wal(const std::filesystem::path& wal_dir) = 0;
  // Beyond the checksum: can this segment be replayed? Returns the problem, if any.
  virtual std::optional<std::string> check_segment(const std::filesystem::path& file) = 0;
  // Restores `base` and replays `segments` (already checked, in order) on top of it.
  virtual std::unique_ptr<RestoredDatabase> restore_with_wal(
      const std::filesystem::path& base, const std::vector<std::filesystem::path>& segments,
      const nlohmann::json& stop_position) = 0;
};

}  // namespace faultline::ops
