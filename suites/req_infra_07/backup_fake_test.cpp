// REQ-INFRA-02 (backup half) and REQ-INFRA-07 on the PostgreSQL fake: scheduled backups with
// the seed's BackupResult contract, verification, corruption caught and fallen back from,
// retention on the simulated clock.
#include <gtest/gtest.h>

#include "harness/core/error.h"
#include "harness/ops/backup/digest.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_07/fake_fixture.h"

namespace faultline::ops {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeBackupWorld;

TEST(BackupFake, ScheduledBackupIsConsistentAndVerified) {
  FAULTLINE_COVERS("UT-INFRA-02.3", "UT-INFRA-07.1");
  FakeBackupWorld world;
  for (int i = 1; i <= 50; ++i) world.insert(i, "order-" + std::to_string(i));
  world.manager().start_schedule();  // BACKUP_SCHEDULE '0 2 * * *'
  ASSERT_TRUE(world.manager().next_scheduled_backup());
  EXPECT_EQ(*world.manager().next_scheduled_backup(), testing::midnight_2026_11_22() + 2h);
  world.clock().advance(2h - 1s);
  EXPECT_TRUE(world.manager().list().empty()) << "nothing before 02:00";
  world.clock().advance(1s);
  const auto backups = world.manager().list();
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(backups[0].timestamp, "2026-11-22T02:00:00Z");
  EXPECT_EQ(*world.manager().next_scheduled_backup(), testing::midnight_2026_11_22() + 26h);

  // The seed's contract, from a direct call.
  world.insert(51, "late");
  const BackupResult r = world.manager().create_backup();
  EXPECT_EQ(r.status, "success") << r.error;
  EXPECT_GT(r.size_bytes, 0u);
  EXPECT_FALSE(r.backup_id.empty());
  EXPECT_EQ(r.timestamp, "2026-11-22T02:00:00Z");
  EXPECT_TRUE(fs::is_directory(r.location));
  EXPECT_EQ(fs::file_size(fs::path(r.location) / "dump.sql"), r.size_bytes);
  // The manifest's checksum is the stored copy's.
  const auto manifest =
      nlohmann::json::parse(testing::contents(fs::path(r.location) / "manifest.json"));
  EXPECT_EQ(manifest["files"][0]["sha256"], sha256_file(fs::path(r.location) / "dump.sql"));
  EXPECT_EQ(manifest["tables"]["orders"]["rows"], 51);

  EXPECT_TRUE(world.manager().verify(r.backup_id).ok);
  EXPECT_FALSE(world.manager().list()[0].restore_tested) << "verified only after a test restore";
  const RestoreResult restored = world.manager().restore();
  ASSERT_TRUE(restored.ok) << restored.problem;
  EXPECT_TRUE(restored.verified);
  EXPECT_EQ(restored.backup_id, r.backup_id);
  EXPECT_TRUE(restored.skipped.empty());
  EXPECT_EQ(testing::orders_at(restored.database->connection_string()), world.source_orders());
  EXPECT_TRUE(world.manager().list()[0].restore_tested);
}

TEST(BackupFake, CorruptedNewestBackupFallsBackToThePreviousGoodOne) {
  FAULTLINE_COVERS("ET-INFRA-02.2");
  FakeBackupWorld world;
  world.insert(1, "first");
  const BackupResult old_backup = world.manager().create_backup();
  world.clock().advance(24h);
  world.insert(2, "second");
  const BackupResult middle = world.manager().create_backup();
  world.clock().advance(24h);
  world.insert(3, "third");
  const BackupResult newest = world.manager().create_backup();
  ASSERT_EQ(newest.status, "success");

  // The newest is truncated, the middle one replaced by a foreign file of the same size.
  const std::string dump = testing::contents(world.dump_of(newest.backup_id));
  testing::overwrite(world.dump_of(newest.backup_id), dump.substr(0, dump.size() / 2));
  testing::overwrite(world.dump_of(middle.backup_id),
                     std::string(fs::file_size(world.dump_of(middle.backup_id)), 'x'));
  EXPECT_NE(world.manager().verify(newest.backup_id).problem.find("corrupted"), std::string::npos);
  EXPECT_NE(world.manager().verify(middle.backup_id).problem.find("SHA-256"), std::string::npos);

  const RestoreResult r = world.manager().restore();
  ASSERT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.verified);
  EXPECT_EQ(r.backup_id, old_backup.backup_id) << "reports which backup it used";
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(r.skipped[0].backup_id, newest.backup_id);
  EXPECT_EQ(r.skipped[1].backup_id, middle.backup_id);
  EXPECT_EQ(testing::orders_at(r.database->connection_string()),
            (std::map<int, std::string>{{1, "first"}}));
  bool journaled = false;
  for (const Event& e : world.journal().events()) {
    if (e.kind == "backup.restore" && e.subject == old_backup.backup_id)
      journaled = e.fields["skipped"].size() == 2;
  }
  EXPECT_TRUE(journaled);
}

TEST(BackupFake, ForeignFileWithARecomputedManifestIsStillCorrupted) {
  FAULTLINE_COVERS("ET-INFRA-02.2");
  FakeBackupWorld world;
  world.insert(1, "kept");
  const BackupResult good = world.manager().create_backup();
  world.clock().advance(1h);
  const BackupResult forged = world.manager().create_backup();
  // Someone drops a foreign file in and fixes up the manifest's checksum and size to match.
  const fs::path dump = world.dump_of(forged.backup_id);
  testing::overwrite(dump, "-- faultline fake postgres dump\nDROP DATABASE everything;\n");
  auto manifest = nlohmann::json::parse(testing::contents(dump.parent_path() / "manifest.json"));
  manifest["files"][0]["sha256"] = sha256_file(dump);
  manifest["files"][0]["size"] = fs::file_size(dump);
  testing::overwrite(dump.parent_path() / "manifest.json", manifest.dump());
  const VerifyResult v = world.manager().verify(forged.backup_id);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("does not load"), std::string::npos) << v.problem;

  // A lone file and a directory without a manifest are reported, never restored.
  testing::overwrite(world.dir() / "backup-99999999T000000Z-9999", "PGDMP garbage");
  fs::create_directory(world.dir() / "stray");
  testing::overwrite(world.dir() / "stray" / "dump.sql", "-- faultline fake postgres dump\n");
  EXPECT_NE(world.manager().verify("backup-99999999T000000Z-9999").problem.find("corrupted"),
            std::string::npos);
  EXPECT_NE(world.manager().verify("stray").problem.find("corrupted"), std::string::npos);
  EXPECT_NE(world.manager().verify("../etc").problem.find("no such backup"), std::string::npos);

  RestoreOptions asked;
  asked.backup_id = "stray";
  const RestoreResult r = world.manager().restore(asked);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.backup_id, good.backup_id);
  EXPECT_EQ(testing::orders_at(r.database->connection_string()),
            (std::map<int, std::string>{{1, "kept"}}));
}

TEST(BackupFake, EveryBackupCorruptedMeansNoRestoreAtAll) {
  FAULTLINE_COVERS("ET-INFRA-02.2");
  FakeBackupWorld world;
  world.insert(1, "a");
  const BackupResult only = world.manager().create_backup();
  testing::overwrite(world.dump_of(only.backup_id), "");
  const RestoreResult r = world.manager().restore();
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.verified);
  EXPECT_EQ(r.database, nullptr);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].reason.find("corrupted"), std::string::npos);
}

TEST(BackupFake, FailedBackupReportsFailedAndLeavesNothing) {
  FAULTLINE_COVERS("UT-INFRA-07.1");
  FakeBackupWorld world;
  world.insert(1, "a");
  world.fake().set_refuse_connections(true);  // the source cannot be read consistently
  const BackupResult r = world.manager().create_backup();
  world.fake().set_refuse_connections(false);
  EXPECT_EQ(r.status, "failed");
  EXPECT_FALSE(r.error.empty());
  EXPECT_FALSE(fs::exists(r.location));
  EXPECT_TRUE(world.manager().list().empty());
}

TEST(BackupFake, RetentionKeepsThirtyDaysOnTheSimulatedClock) {
  FAULTLINE_COVERS("UT-INFRA-02.3");
  FakeBackupWorld world;
  world.insert(1, "a");
  world.manager().start_schedule();
  world.clock().advance(24h * 40 + 2h);  // 41 scheduled runs: day 0 .. day 40 at 02:00
  const auto backups = world.manager().list();
  // Kept: those not older than 30 days at the last run (day 10 .. day 40).
  ASSERT_EQ(backups.size(), 31u);
  EXPECT_EQ(backups.back().timestamp, "2026-12-02T02:00:00Z");
  EXPECT_EQ(backups.front().timestamp, "2027-01-01T02:00:00Z");
}

TEST(BackupFake, InvalidConfigurationIsRejectedAtConstruction) {
  BackupConfig bad;
  bad.retention_days = -1;
  try {
    FakeBackupWorld world(bad);
    FAIL() << "accepted a negative retention";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("BACKUP_RETENTION_DAYS"), std::string::npos);
  }
  BackupConfig unreadable;
  unreadable.directory = "/proc/version/backups";
  EXPECT_THROW(FakeBackupWorld world(unreadable), UsageError);
  BackupConfig schedule;
  schedule.schedule = "0 2 * *";
  EXPECT_THROW(FakeBackupWorld world(schedule), UsageError);
}

}  // namespace
}  // namespace faultline::ops
