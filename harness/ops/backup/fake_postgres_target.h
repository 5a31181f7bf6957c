// FakePostgresTarget: backs up a fakes/postgres PostgresFake as SQL and restores it into a fresh
// PostgresFake on the same EventLoop and Clock.
//
// A dump is the fake's committed catalog as SQL (PostgresFake::dump), taken between two
// identical dumps around the row digests so the digests describe exactly the dumped rows (the
// fake has no snapshot export; a commit in between makes it retry, at most 10 times).
// check_dump loads the file into a scratch fake: a truncated or foreign file does not load.
//
// WAL, as modelled here: the fake exposes no change stream, so a "segment" is the committed
// catalog as SQL at the moment it is archived, numbered and chained by the WAL manifest that
// BackupManager keeps. Replaying segments in order reproduces the state at the last one; the
// manager stops at the first missing or corrupted segment exactly as PostgreSQL's recovery stops
// at the end of usable WAL. See README.md.
//
// Thread safety: as BackupTarget (one BackupManager, under its lock).
#pragma once

#include <cstdint>

#include "harness/ops/backup/backup_target.h"

namespace faultline {
class Clock;
class EventLoop;
}  // namespace faultline
namespace faultline::pg {
class PostgresFake;
}

namespace faultline::ops {

class FakePostgresTarget final : public BackupTarget {
 public:
  FakePostgresTarget(EventLoop& loop, Clock& clock, pg::PostgresFake& source);

  std::string kind() const override { return "fake-postgres"; }
  std::string dump_file_name() const override { return "dump.sql"; }
  std::string format() const override { return "sql"; }
  TableDigests dump(const std::filesystem::path& file) override;
  std::optional<std::string> check_dump(const std::filesystem::path& file) override;
  std::unique_ptr<RestoredDatabase> restore(const std::filesystem::path& file) override;
  std::vector<Segment> archive_wal(const std::filesystem::path& wal_dir) override;
  // The header only: the manager has checked the checksum, and replay loads every segment.
  std::optional<std::string> check_segment(const std::filesystem::path& file) override;
  std::unique_ptr<RestoredDatabase> restore_with_wal(
      const std::filesystem::path& base, const std::vector<std::filesystem::path>& segments,
      const nlohmann::json& stop_position) override;

  // Table names created by a fake dump (its CREATE TABLE lines).
  static std::vector<std::string> tables_of(const std::string& sql);

 private:
  // A dump and the digests of the rows it holds.
  std::pair<std::string, TableDigests> consistent_dump();

  EventLoop& loop_;
  Clock& clock_;
  pg::PostgresFake& source_;
};

}  // namespace faultline::ops
