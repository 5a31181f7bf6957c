// BackupConfig and CronSchedule: what a BackupManager is told, checked before it is used.
//
// BackupConfig carries the seed's settings (BACKUP_RETENTION_DAYS 30, BACKUP_SCHEDULE
// '0 2 * * *'), the backup directory, the WAL archiving interval and the RPO/RTO targets of
// REQ-INFRA-07 (RPO < 5 min, RTO < 15 min). `validate()` throws UsageError naming the offending
// setting: a directory that cannot be created or written, a retention of zero or less, an
// unparsable schedule, non-positive intervals.
//
// CronSchedule is the five-field cron subset: minute hour day-of-month month day-of-week, each
// `*`, a number, a range `a-b`, a list `a,b,c` or a step `*/n` / `a-b/n`; times are UTC.
// When both day fields are restricted a day matches if either does (as Vixie cron).
//
// Thread safety: both are values; const member functions may be called from any thread.
#pragma once

#include <bitset>
#include <chrono>
#include <filesystem>
#include <string>

namespace faultline::ops {

class CronSchedule {
 public:
  // Throws UsageError naming the field that does not parse.
  static CronSchedule parse(const std::string& expression);

  // The first matching minute strictly after `after` (UTC). Searches at most five years ahead.
  std::chrono::system_clock::time_point next_after(
      std::chrono::system_clock::time_point after) const;
  bool matches(std::chrono::system_clock::time_point at) const;
  const std::string& expression() const { return expression_; }

 private:
  std::string expression_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<8> weekdays_;  // 0..6, Sunday 0 (7 is accepted as Sunday)
  bool days_any_ = true;
  bool weekdays_any_ = true;
};

struct BackupConfig {
  std::filesystem::path directory;     // backups and the WAL archive live here
  int retention_days = 30;             // BACKUP_RETENTION_DAYS
  std::string schedule = "0 2 * * *";  // BACKUP_SCHEDULE
  // How often continuous archiving ships a WAL segment (archive_timeout in PostgreSQL's terms).
  std::chrono::seconds wal_archive_interval{60};
  std::chrono::seconds rpo_target{300};  // RPO < 5 min
  std::chrono::seconds rto_target{900};  // RTO < 15 min

  // Throws UsageError with a clear message; creates `directory` if it does not exist.
  void validate() const;
};

}  // namespace faultline::ops
