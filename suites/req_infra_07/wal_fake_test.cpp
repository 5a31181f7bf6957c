// REQ-INFRA-07 on the PostgreSQL fake: continuous WAL archiving (the fake's segment model, see
// harness/ops/backup/README.md), point-in-time restore, the RPO check and its alert, a broken
// WAL chain, and the recovery drill with its RTO/RPO figures.
#include <gtest/gtest.h>

#include "harness/ops/alert_manager.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_07/fake_fixture.h"

namespace faultline::ops {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeBackupWorld;

std::vector<fs::path> segments_in(const fs::path& wal_dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(wal_dir)) {
    if (e.path().extension() == ".walsql") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(WalFake, ContinuousArchivingKeepsTheRecoverablePointWithinFiveMinutes) {
  FAULTLINE_COVERS("UT-INFRA-07.2");
  FakeBackupWorld world;
  world.manager().create_backup();
  world.manager().start_wal_archiving();  // every 60 s on the clock
  Duration worst{0};
  for (int minute = 0; minute < 90; ++minute) {
    world.insert(minute, "m" + std::to_string(minute));
    world.clock().advance(37s);
    const RpoReport rpo = world.manager().rpo_check();
    EXPECT_FALSE(rpo.violated) << "minute " << minute;
    worst = std::max(worst, rpo.rpo);
    world.clock().advance(23s);
  }
  EXPECT_LE(worst, Duration(60s));
  EXPECT_EQ(segments_in(world.dir() / "wal").size(), 90u);
  for (const Event& e : world.journal().events()) {
    if (e.kind == "alert") ADD_FAILURE() << "no RPO alert expected: " << e.fields.dump();
  }
}

TEST(WalFake, PointInTimeRestoreReplaysTheArchiveUpToTheTarget) {
  FAULTLINE_COVERS("UT-INFRA-07.3");
  FakeBackupWorld world;
  world.insert(1, "before-backup");
  world.manager().create_backup();
  world.clock().advance(1min);
  world.insert(2, "after-backup");
  world.manager().archive_wal();
  const TimePoint point = world.clock().now();
  const auto expected = world.source_orders();
  world.clock().advance(1min);
  world.exec("DELETE FROM orders WHERE id = 1");  // the mistake to recover from
  world.manager().archive_wal();

  RestoreOptions pitr;
  pitr.replay_wal = true;
  pitr.target_time = point + 30s;
  const RestoreResult r = world.manager().restore(pitr);
  ASSERT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.verified) << r.problem;
  EXPECT_EQ(r.wal_segments_applied, 1u);
  EXPECT_EQ(*r.recovered_to, point);
  EXPECT_EQ(testing::orders_at(r.database->connection_string()), expected);

  RestoreOptions latest;
  latest.replay_wal = true;
  const RestoreResult now = world.manager().restore(latest);
  ASSERT_TRUE(now.ok && now.verified) << now.problem;
  EXPECT_EQ(testing::orders_at(now.database->connection_string()), world.source_orders());
}

TEST(WalFake, DailyBackupAloneViolatesTheRpoAndAlerts) {
  FAULTLINE_COVERS("ET-INFRA-07.1");
  FakeBackupWorld world;
  AlertManager& alerts = world.alerts();
  world.insert(1, "a");
  world.manager().start_schedule();  // only BACKUP_SCHEDULE '0 2 * * *'
  world.manager().start_wal_archiving();
  world.clock().advance(1h);
  world.manager().stop_wal_archiving();  // archiving stopped
  world.clock().advance(1h + 1min);      // the 02:00 backup has run
  ASSERT_EQ(world.manager().list().size(), 1u);
  EXPECT_FALSE(world.manager().rpo_check().violated) << "one minute after the backup";
  world.clock().advance(5min);
  const RpoReport r = world.manager().rpo_check();
  EXPECT_TRUE(r.violated);
  EXPECT_EQ(r.rpo, Duration(6min));
  EXPECT_EQ(r.source.rfind("backup ", 0), 0u) << r.source;
  EXPECT_EQ(alerts.counts().delivered, 1);
  world.manager().rpo_check();  // still violated: deduplicated, not a second page
  EXPECT_EQ(alerts.counts().delivered, 1);
  bool journaled = false;
  for (const Event& e : world.journal().events()) {
    journaled |= e.kind == "alert" && e.subject == "BackupRpoViolated" && !e.fields["resolved"];
  }
  EXPECT_TRUE(journaled);
}

class BrokenWalChain : public ::testing::TestWithParam<std::string> {};

TEST_P(BrokenWalChain, RestoreStopsAtTheLastConsistentPointAndIsNotVerified) {
  FAULTLINE_COVERS("ET-INFRA-07.2");
  FakeBackupWorld world;
  world.manager().create_backup();
  std::vector<std::map<int, std::string>> states;
  for (int i = 1; i <= 4; ++i) {
    world.clock().advance(1min);
    world.insert(i, "w" + std::to_string(i));
    world.manager().archive_wal();
    states.push_back(world.source_orders());
  }
  const auto segments = segments_in(world.dir() / "wal");
  ASSERT_EQ(segments.size(), 4u);
  if (GetParam() == "missing") {
    fs::remove(segments[2]);
  } else {
    std::string bytes = testing::contents(segments[2]);
    bytes[bytes.size() / 2] ^= 0x20;
    testing::overwrite(segments[2], bytes);
  }
  RestoreOptions latest;
  latest.replay_wal = true;
  const RestoreResult r = world.manager().restore(latest);
  ASSERT_TRUE(r.ok) << r.problem;
  EXPECT_FALSE(r.verified);
  EXPECT_EQ(r.wal_segments_applied, 2u);
  EXPECT_NE(r.problem.find(segments[2].filename().string()), std::string::npos) << r.problem;
  EXPECT_EQ(r.lost_window, Duration(2min)) << "from segment 2 to segment 4";
  EXPECT_EQ(testing::orders_at(r.database->connection_string()), states[1]);
  // The RPO check sees the same break.
  EXPECT_EQ(world.manager().rpo_check().newest_recoverable, r.recovered_to);
}

INSTANTIATE_TEST_SUITE_P(Wal, BrokenWalChain, ::testing::Values("missing", "corrupted"));

TEST(WalFake, RecoveryDrillReportsRtoAndRpo) {
  FAULTLINE_COVERS("UT-INFRA-07.3");
  FakeBackupWorld world;
  world.manager().start_schedule();
  world.manager().start_wal_archiving();
  for (int i = 0; i < 200; ++i) {
    world.insert(i, "o" + std::to_string(i));
    world.clock().advance(47s);
  }
  const auto acknowledged = world.source_orders();
  DrillOptions drill;
  drill.destroy = [&] { world.fake().load(""); };  // the database is gone
  drill.health_check = [&](RestoredDatabase& db) {
    return testing::orders_at(db.connection_string()).empty() ? "no orders" : "";
  };
  const DrillReport report = world.manager().recovery_drill(drill);
  ASSERT_TRUE(report.restore.ok) << report.problem;
  EXPECT_TRUE(report.restore.verified);
  EXPECT_TRUE(report.rpo_met);
  EXPECT_TRUE(report.rto_met);
  EXPECT_TRUE(report.passed) << report.problem;
  EXPECT_LT(report.rpo, Duration(60s));
  // Everything acknowledged before the last archive is back.
  const auto restored = testing::orders_at(report.restore.database->connection_string());
  for (const auto& [id, item] : acknowledged) {
    if (!restored.count(id)) {
      EXPECT_GE(id, 198) << "lost order " << id;
    }
  }
  bool journaled = false;
  for (const Event& e : world.journal().events()) {
    journaled |=
        e.kind == "backup.drill" && e.fields.contains("rto_ms") && e.fields.contains("rpo_ms");
  }
  EXPECT_TRUE(journaled);
  std::printf("fake drill: RTO %lld ms (simulated clock), RPO %lld ms, backup %s, %zu segments\n",
              static_cast<long long>(report.rto / 1ms), static_cast<long long>(report.rpo / 1ms),
              report.restore.backup_id.c_str(), report.restore.wal_segments_applied);
}

}  // namespace
}  // namespace faultline::ops
