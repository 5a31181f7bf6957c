// Unit tests of BackupConfig validation and the cron subset of BACKUP_SCHEDULE.
#include "harness/ops/backup/backup_config.h"

#include <gtest/gtest.h>

#include "harness/core/error.h"
#include "harness/testing/process_testing.h"

namespace faultline::ops {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;
using namespace std::chrono_literals;

std::chrono::system_clock::time_point at(int y, unsigned m, unsigned d, int h, int min) {
  return sys_days(std::chrono::year(y) / m / d) + hours(h) + minutes(min);
}

TEST(CronSchedule, DailyAtTwoUtc) {
  const CronSchedule s = CronSchedule::parse("0 2 * * *");
  EXPECT_EQ(s.next_after(at(2026, 11, 22, 1, 59)), at(2026, 11, 22, 2, 0));
  EXPECT_EQ(s.next_after(at(2026, 11, 22, 2, 0)), at(2026, 11, 23, 2, 0));
  EXPECT_EQ(s.next_after(at(2026, 12, 31, 3, 0)), at(2027, 1, 1, 2, 0));
  EXPECT_TRUE(s.matches(at(2026, 11, 22, 2, 0)));
  EXPECT_FALSE(s.matches(at(2026, 11, 22, 2, 1)));
}

TEST(CronSchedule, StepsRangesListsAndWeekdays) {
  EXPECT_EQ(CronSchedule::parse("*/15 * * * *").next_after(at(2026, 1, 1, 0, 1)),
            at(2026, 1, 1, 0, 15));
  EXPECT_EQ(CronSchedule::parse("30 9-17/4 * * *").next_after(at(2026, 1, 1, 10, 0)),
            at(2026, 1, 1, 13, 30));
  EXPECT_EQ(CronSchedule::parse("0 0 1,15 * *").next_after(at(2026, 1, 2, 0, 0)),
            at(2026, 1, 15, 0, 0));
  // 2026-11-22 is a Sunday; "1" is Monday, "7" is Sunday as "0".
  EXPECT_EQ(CronSchedule::parse("0 3 * * 1").next_after(at(2026, 11, 22, 0, 0)),
            at(2026, 11, 23, 3, 0));
  EXPECT_EQ(CronSchedule::parse("0 3 * * 7").next_after(at(2026, 11, 21, 0, 0)),
            at(2026, 11, 22, 3, 0));
  EXPECT_EQ(CronSchedule::parse("0 0 29 2 *").next_after(at(2026, 3, 1, 0, 0)),
            at(2028, 2, 29, 0, 0));
}

TEST(CronSchedule, RejectsWhatItCannotParse) {
  for (const char* bad :
       {"", "0 2 * *", "0 2 * * * *", "60 2 * * *", "0 24 * * *", "x 2 * * *", "0 2 0 * *",
        "0 2 * 13 *", "0 2 * * 8", "*/0 * * * *", "5-1 * * * *", "0 2 31 2 *", "1,,2 * * * *"}) {
    EXPECT_THROW(CronSchedule::parse(bad).next_after(at(2026, 1, 1, 0, 0)), UsageError) << bad;
  }
  try {
    CronSchedule::parse("0 25 * * *");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("hour"), std::string::npos) << e.what();
  }
}

TEST(BackupConfig, RejectsBadSettingsWithAClearMessage) {
  testing::TempDir tmp;
  BackupConfig good;
  good.directory = tmp.path() / "backups";
  EXPECT_NO_THROW(good.validate());
  EXPECT_TRUE(std::filesystem::is_directory(good.directory));

  auto message = [](const BackupConfig& c) {
    try {
      c.validate();
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  BackupConfig c = good;
  c.retention_days = 0;
  EXPECT_NE(message(c).find("BACKUP_RETENTION_DAYS"), std::string::npos);
  c.retention_days = -3;
  EXPECT_NE(message(c).find("BACKUP_RETENTION_DAYS"), std::string::npos);
  c = good;
  c.schedule = "every day at 2";
  EXPECT_NE(message(c).find("BACKUP_SCHEDULE"), std::string::npos);
  c = good;
  c.directory = "/dev/null/backups";  // under a file: cannot be created, even by root
  EXPECT_NE(message(c).find("cannot be created"), std::string::npos);
  c = good;
  c.directory.clear();
  EXPECT_NE(message(c).find("not set"), std::string::npos);
  c = good;
  c.wal_archive_interval = 0s;
  EXPECT_NE(message(c).find("WAL archive interval"), std::string::npos);
}

}  // namespace
}  // namespace faultline::ops
