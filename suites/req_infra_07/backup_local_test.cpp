// REQ-INFRA-02 (backup half) and REQ-INFRA-07 against a real PostgreSQL 15: pg_dump -Fc backups
// checked with pg_restore --list and restored into fresh databases, corrupted-backup fallback,
// WAL archiving through archive_command, point-in-time restore from a base backup plus archived
// WAL, the RPO alert, and a recovery drill whose RTO/RPO figures are measured on the real clock.
// Skipped, with the reason, where PostgreSQL cannot be started here.
#include <gtest/gtest.h>

#include "harness/testing/covers.h"
#include "suites/req_infra_07/local_fixture.h"

namespace faultline::ops {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::LocalBackupWorld;

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("req_infra_07_local");

#define SKIP_WITHOUT_POSTGRES() \
  if (auto why = faultline::testing::RealPostgres::unavailable()) GTEST_SKIP() << *why

RunDirectory& run() {
  return faultline::testing::test_run_directory();
}

std::size_t wal_segment_count(const fs::path& wal_dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(wal_dir))
    n += e.path().filename().string().size() == 24;
  return n;
}

TEST(BackupLocal, PgDumpBackupIsVerifiedAndRestoresIntoAFreshDatabase) {
  FAULTLINE_COVERS("UT-INFRA-02.3", "UT-INFRA-07.1");
  SKIP_WITHOUT_POSTGRES();
  LocalBackupWorld world(run(), false, true);
  for (int i = 1; i <= 100; ++i) world.insert(i, "order-" + std::to_string(i));
  const BackupResult r = world.manager().create_backup();
  ASSERT_EQ(r.status, "success") << r.error;
  EXPECT_GT(r.size_bytes, 0u);
  EXPECT_EQ(testing::contents(world.dump_of(r.backup_id)).substr(0, 5), "PGDMP") << "custom format";
  const VerifyResult v = world.manager().verify(r.backup_id);
  EXPECT_TRUE(v.ok) << v.problem;
  const RestoreResult restored = world.manager().restore();
  ASSERT_TRUE(restored.ok) << restored.problem;
  EXPECT_TRUE(restored.verified);
  EXPECT_NE(restored.database->connection_string(), world.server().connection_string());
  EXPECT_EQ(testing::orders_at(restored.database->connection_string()), world.source_orders());
  EXPECT_TRUE(world.manager().list()[0].restore_tested);
}

TEST(BackupLocal, CorruptedNewestDumpFallsBackToThePreviousGoodOne) {
  FAULTLINE_COVERS("ET-INFRA-02.2");
  SKIP_WITHOUT_POSTGRES();
  LocalBackupWorld world(run(), false, true);
  world.insert(1, "first");
  const BackupResult old_backup = world.manager().create_backup();
  world.manual_clock().advance(24h);
  world.insert(2, "second");
  const BackupResult middle = world.manager().create_backup();
  world.manual_clock().advance(24h);
  world.insert(3, "third");
  const BackupResult newest = world.manager().create_backup();
  ASSERT_EQ(newest.status, "success") << newest.error;

  const std::string dump = testing::contents(world.dump_of(newest.backup_id));
  testing::overwrite(world.dump_of(newest.backup_id), dump.substr(0, dump.size() - 40));
  // A foreign file with a manifest forged to match: only pg_restore --list can tell.
  const fs::path forged = world.dump_of(middle.backup_id);
  testing::overwrite(forged, "PGDMP but not really a dump at all");
  auto manifest = nlohmann::json::parse(testing::contents(forged.parent_path() / "manifest.json"));
  manifest["files"][0]["sha256"] = sha256_file(forged);
  manifest["files"][0]["size"] = fs::file_size(forged);
  testing::overwrite(forged.parent_path() / "manifest.json", manifest.dump());
  EXPECT_NE(world.manager().verify(middle.backup_id).problem.find("pg_restore --list"),
            std::string::npos);

  const RestoreResult r = world.manager().restore();
  ASSERT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.verified);
  EXPECT_EQ(r.backup_id, old_backup.backup_id);
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(r.skipped[0].backup_id, newest.backup_id);
  EXPECT_EQ(r.skipped[1].backup_id, middle.backup_id);
  EXPECT_EQ(testing::orders_at(r.database->connection_string()),
            (std::map<int, std::string>{{1, "first"}}));
}

TEST(BackupLocal, ArchiveCommandShipsWalAndTheRpoCheckAlertsWhenItStops) {
  FAULTLINE_COVERS("UT-INFRA-07.2", "ET-INFRA-07.1");
  SKIP_WITHOUT_POSTGRES();
  LocalBackupWorld world(run(), true, true);
  world.insert(1, "a");
  ASSERT_EQ(world.manager().create_backup().status, "success");
  for (int minute = 1; minute <= 4; ++minute) {
    world.manual_clock().advance(60s);
    world.insert(1 + minute, "m");
    EXPECT_GE(world.manager().archive_wal(), 1u) << "a segment per switch";
    const RpoReport rpo = world.manager().rpo_check();
    EXPECT_FALSE(rpo.violated);
    EXPECT_EQ(rpo.rpo, Duration(0));
    EXPECT_EQ(rpo.source.rfind("wal ", 0), 0u) << rpo.source;
  }
  EXPECT_GE(wal_segment_count(world.dir() / "wal"), 4u);
  // Archiving stops: after more than 5 minutes the check says so and pages once.
  world.manual_clock().advance(5min + 1s);
  EXPECT_TRUE(world.manager().rpo_check().violated);
  EXPECT_EQ(world.alerts().counts().delivered, 1);
}

TEST(BackupLocal, PointInTimeRestoreFromBaseBackupAndArchivedWal) {
  FAULTLINE_COVERS("UT-INFRA-07.3", "ET-INFRA-07.2");
  SKIP_WITHOUT_POSTGRES();
  LocalBackupWorld world(run(), true, true);
  world.insert(1, "in-backup");
  const BackupResult base = world.manager().create_backup();
  ASSERT_EQ(base.status, "success") << base.error;
  ASSERT_TRUE(fs::exists(fs::path(base.location) / "base.tar"));
  world.manager().archive_wal();  // ships what the base backup needs
  world.manual_clock().advance(60s);
  world.insert(2, "after-backup");
  world.manager().archive_wal();
  const TimePoint point = world.manual_clock().now();
  const auto at_point = world.source_orders();
  world.manual_clock().advance(60s);
  world.exec("DELETE FROM orders WHERE id = 1");  // the mistake to undo
  world.manager().archive_wal();
  const auto latest_rows = world.source_orders();

  RestoreOptions pitr;
  pitr.replay_wal = true;
  pitr.target_time = point + 30s;
  RestoreResult r = world.manager().restore(pitr);
  ASSERT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.verified) << r.problem;
  EXPECT_EQ(testing::orders_at(r.database->connection_string()), at_point);
  r.database.reset();

  // The newest segment goes missing: recovery stops at the point before it, unverified.
  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(world.dir() / "wal"))
    if (e.path().filename().string().size() == 24) segments.push_back(e.path());
  std::sort(segments.begin(), segments.end());
  ASSERT_FALSE(segments.empty());
  RestoreOptions latest;
  latest.replay_wal = true;
  const RestoreResult full = world.manager().restore(latest);
  ASSERT_TRUE(full.ok && full.verified) << full.problem;
  EXPECT_EQ(testing::orders_at(full.database->connection_string()), latest_rows);
  fs::remove(segments.back());
  const RestoreResult cut = world.manager().restore(latest);
  ASSERT_TRUE(cut.ok) << cut.problem;
  EXPECT_FALSE(cut.verified);
  EXPECT_GT(cut.lost_window, Duration(0));
  EXPECT_NE(cut.problem.find(segments.back().filename().string()), std::string::npos)
      << cut.problem;
  EXPECT_EQ(testing::orders_at(cut.database->connection_string()), at_point);
}

TEST(BackupLocal, RecoveryDrillAfterTheDataDirectoryIsDestroyed) {
  SKIP_WITHOUT_POSTGRES();
  LocalBackupWorld world(run(), true, false);  // the real clock: RTO and RPO are measured
  world.insert(0, "before-backup");
  ASSERT_EQ(world.manager().create_backup().status, "success");
  for (int i = 1; i <= 60; ++i) {
    world.insert(i, "order-" + std::to_string(i));
    if (i % 20 == 0) world.manager().archive_wal();
  }
  const auto acknowledged = world.source_orders();
  DrillOptions drill;
  drill.destroy = [&] { world.server().stop(); };  // server stopped, data directory removed
  drill.health_check = [](RestoredDatabase& db) -> std::string {
    try {
      pqxx::connection c(db.connection_string());
      pqxx::nontransaction tx(c);
      tx.exec("INSERT INTO orders VALUES (-1, 'health')");  // writable: promoted, not a standby
      return "";
    } catch (const std::exception& e) {
      return e.what();
    }
  };
  const DrillReport report = world.manager().recovery_drill(drill);
  ASSERT_TRUE(report.restore.ok) << report.problem;
  EXPECT_TRUE(report.restore.verified) << report.problem;
  EXPECT_TRUE(report.problem.empty()) << report.problem;
  auto restored = testing::orders_at(report.restore.database->connection_string());
  restored.erase(-1);
  EXPECT_EQ(restored, acknowledged) << "every write acknowledged before the last archive is back";
  std::printf("local drill: RTO %lld ms, RPO %lld ms (real clock), backup %s, %zu WAL files\n",
              static_cast<long long>(report.rto / 1ms), static_cast<long long>(report.rpo / 1ms),
              report.restore.backup_id.c_str(), report.restore.wal_segments_applied);
  ::testing::Test::RecordProperty("drill_rto_ms", std::to_string(report.rto / 1ms));
  ::testing::Test::RecordProperty("drill_rpo_ms", std::to_string(report.rpo / 1ms));
}

}  // namespace
}  // namespace faultline::ops
