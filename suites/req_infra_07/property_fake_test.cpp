// Properties on the PostgreSQL fake (RapidCheck, seeded by the run seed):
//   PT-INFRA-02.1 (backup half): over any sequence of writes, deletes, backups, corruptions and
//     time, every backup that verify() accepts restores to exactly its source rows, and no
//     corrupted backup is ever accepted or restored.
//   PT-INFRA-07.1: with continuous archiving, every write acknowledged more than 5 minutes
//     before a failure is present after the recovery drill's restore, the drill meets the RTO on
//     the clock, and a backup counts as verified only once a test restore of it has succeeded.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "harness/ops/backup/digest.h"
#include "harness/testing/covers.h"
#include "harness/testing/property.h"
#include "suites/req_infra_07/fake_fixture.h"

namespace faultline::ops {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeBackupWorld;

struct ModelBackup {
  std::string id;
  std::map<int, std::string> rows;
  bool corrupted = false;
};

// Damages backup `b` in one of five ways; all must be caught.
void corrupt(FakeBackupWorld& world, ModelBackup& b, int how) {
  const fs::path dump = world.dump_of(b.id);
  std::string bytes = testing::contents(dump);  // empty if an earlier corruption removed it
  if (bytes.empty()) bytes = "x";
  // A second flip of the same bit would undo the first: damage an already damaged copy by
  // truncating it instead.
  if (b.corrupted && how % 5 == 1) how = 0;
  switch (how % 5) {
    case 0:  // truncated
      testing::overwrite(dump, bytes.substr(0, bytes.size() / 2));
      break;
    case 1: {  // one bit flipped, same size
      std::string flipped = bytes;
      flipped[static_cast<std::size_t>(how) % flipped.size()] ^= 0x01;
      testing::overwrite(dump, flipped);
      break;
    }
    case 2:  // a foreign file of the same size
      testing::overwrite(dump, std::string(bytes.size(), '\x7f'));
      break;
    case 3:  // the dump is gone
      fs::remove(dump);
      break;
    default: {  // a foreign dump with a manifest forged to match it
      testing::overwrite(dump,
                         "-- faultline fake postgres dump\nINSERT INTO nowhere VALUES (1);\n");
      auto manifest =
          nlohmann::json::parse(testing::contents(dump.parent_path() / "manifest.json"));
      manifest["files"][0]["sha256"] = sha256_file(dump);
      manifest["files"][0]["size"] = fs::file_size(dump);
      testing::overwrite(dump.parent_path() / "manifest.json", manifest.dump());
    }
  }
  b.corrupted = true;
}

TEST(BackupProperty, VerifiedBackupsRestoreExactlyAndCorruptedOnesNever) {
  FAULTLINE_COVERS("PT-INFRA-02.1");
  faultline::testing::check_property([](const std::vector<std::pair<unsigned, unsigned>>& ops) {
    FakeBackupWorld world;
    std::map<int, std::string> rows;
    std::vector<ModelBackup> backups;
    int next_id = 1;
    for (const auto& [kind, arg] : ops) {
      switch (kind % 5) {
        case 0: {
          const std::string item = "v" + std::to_string(arg % 1000);
          world.insert(next_id, item);
          rows[next_id++] = item;
          break;
        }
        case 1:
          if (next_id > 1) {
            const int id = 1 + static_cast<int>(arg % static_cast<unsigned>(next_id - 1));
            world.exec("DELETE FROM orders WHERE id = " + std::to_string(id));
            rows.erase(id);
          }
          break;
        case 2: {
          const BackupResult r = world.manager().create_backup();
          RC_ASSERT(r.status == "success");
          backups.push_back({r.backup_id, rows, false});
          break;
        }
        case 3:
          if (!backups.empty())
            corrupt(world, backups[arg % backups.size()], static_cast<int>(arg / 7));
          break;
        default:
          world.clock().advance(std::chrono::seconds(arg % 3600));
      }
    }
    for (const ModelBackup& b : backups) {
      const VerifyResult v = world.manager().verify(b.id);
      RC_ASSERT(v.ok == !b.corrupted);
      RestoreOptions only;
      only.backup_id = b.id;
      const RestoreResult r = world.manager().restore(only);
      if (b.corrupted) {
        RC_ASSERT(r.backup_id != b.id);
      } else {
        RC_ASSERT(r.ok);
        RC_ASSERT(r.verified);
        RC_ASSERT(r.backup_id == b.id);
        RC_ASSERT(testing::orders_at(r.database->connection_string()) == b.rows);
      }
    }
  });
}

TEST(BackupProperty, AcknowledgedWritesOlderThanTheRpoSurviveTheDrill) {
  FAULTLINE_COVERS("PT-INFRA-07.1");
  faultline::testing::check_property([](const std::vector<std::pair<bool, unsigned>>& ops) {
    FakeBackupWorld world;
    world.manager().create_backup();
    world.manager().start_schedule();
    world.manager().start_wal_archiving();
    std::map<int, std::pair<std::string, TimePoint>> acknowledged;
    int next_id = 1;
    for (const auto& [write, arg] : ops) {
      if (write) {
        const std::string item = "w" + std::to_string(arg % 1000);
        world.insert(next_id, item);  // returns once committed: acknowledged now
        acknowledged[next_id++] = {item, world.clock().now()};
      } else {
        world.clock().advance(std::chrono::seconds(arg % 300));
      }
    }
    for (const BackupInfo& b : world.manager().list()) RC_ASSERT(!b.restore_tested);

    const TimePoint failure = world.clock().now();
    DrillOptions drill;
    drill.destroy = [&] { world.fake().load(""); };
    const DrillReport report = world.manager().recovery_drill(drill);
    RC_ASSERT(report.restore.ok);
    RC_ASSERT(report.restore.verified);
    RC_ASSERT(report.rto_met);
    RC_ASSERT(report.rto < Duration(15min));
    const auto restored = testing::orders_at(report.restore.database->connection_string());
    for (const auto& [id, ack] : acknowledged) {
      if (ack.second + 5min < failure) {
        RC_ASSERT(restored.count(id) == 1u);
        RC_ASSERT(restored.at(id) == ack.first);
      }
    }
    const std::string newest = world.manager().list().front().backup_id;
    RC_ASSERT(world.manager().test_restore(newest).verified);
    RC_ASSERT(world.manager().list().front().restore_tested);
  });
}

}  // namespace
}  // namespace faultline::ops
