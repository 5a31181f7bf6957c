// The backup fault kinds of the registry (fault_kind.h), and where a backup workload keeps its
// backups:
//
//   corrupt-backup  (engine) flips `bytes` bytes (default 16) of the dump of the newest backup the
//                   backup workload `workload` (default "backup") has taken, at offsets and with
//                   XOR masks drawn from the run's seeded Rng. The manifest is left alone, so the
//                   damage is what bit rot or a torn copy would do. Heal: nothing to undo — the
//                   corruption is the disaster the restore must survive; the backup directory goes
//                   with the run. The backup hit, its file and the offsets are journaled as a
//                   decision (subject corrupt-backup) for the backup-restored checker.
#include <fstream>

#include <nlohmann/json.hpp>

#include "chaos/engine/environment.h"
#include "chaos/engine/fault_kind.h"
#include "harness/core/error.h"
#include "harness/core/journal.h"
#include "harness/core/rng.h"
#include "harness/core/run_dir.h"

namespace faultline::chaos {

namespace fs = std::filesystem;

// <run directory>/backups/<workload>: shared by workloads/backup.cpp and the fault below.
fs::path backup_directory(Environment& env, const std::string& workload) {
  return env.run_directory().path() / "backups" / workload;
}

namespace {

class NothingToUndo final : public ActiveFault {
 public:
  void heal() override {}
};

struct Newest {
  std::string backup_id;
  fs::path file;
};

// The newest backup with a readable manifest (highest seq) and its dump file.
Newest newest_backup(const fs::path& dir) {
  Newest out;
  std::uint64_t best = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory() || entry.path().filename() == "wal") continue;
    std::ifstream in(entry.path() / "manifest.json");
    if (!in) continue;
    try {
      const auto m = nlohmann::json::parse(in);
      const auto seq = m.at("seq").get<std::uint64_t>();
      if (seq <= best) continue;
      best = seq;
      out.backup_id = m.at("backup_id").get<std::string>();
      out.file = entry.path() / m.at("files").at(0).at("name").get<std::string>();
    } catch (const std::exception&) {
      continue;  // not a backup
    }
  }
  if (out.backup_id.empty()) throw Error("corrupt-backup: no backup in " + dir.string() + " yet");
  return out;
}

std::unique_ptr<ActiveFault> inject_corrupt_backup(Environment& env, const std::string&,
                                                   const nlohmann::json& p) {
  const std::string workload = p.value("workload", std::string("backup"));
  const int bytes = p.value("bytes", 16);
  if (bytes < 1) throw Error("corrupt-backup: bytes must be at least 1");
  const Newest target = newest_backup(backup_directory(env, workload));
  std::fstream f(target.file, std::ios::in | std::ios::out | std::ios::binary);
  const auto size = fs::file_size(target.file);
  if (!f || size == 0) throw Error("corrupt-backup: cannot open " + target.file.string());
  Rng rng = env.rng("corrupt-backup/" + target.backup_id);
  nlohmann::json offsets = nlohmann::json::array();
  for (int i = 0; i < bytes; ++i) {
    const auto at = static_cast<std::streamoff>(rng.index(static_cast<std::size_t>(size)));
    const auto mask = static_cast<char>(1 + rng.index(255));  // never 0: the byte changes
    char c = 0;
    f.seekg(at);
    f.read(&c, 1);
    c = static_cast<char>(c ^ mask);
    f.seekp(at);
    f.write(&c, 1);
    offsets.push_back(at);
  }
  f.close();
  if (!f) throw Error("corrupt-backup: cannot write " + target.file.string());
  env.journal().append(event_kind::kDecision, "corrupt-backup",
                       {{"workload", workload},
                        {"backup_id", target.backup_id},
                        {"file", target.file.filename().string()},
                        {"bytes", bytes},
                        {"offsets", offsets}});
  return std::make_unique<NothingToUndo>();
}

}  // namespace

FaultKind corrupt_backup_fault_kind() {
  return {"corrupt-backup",
          "engine",
          "flips bytes (default 16) of the newest backup's dump of the backup workload "
          "(default backup), seeded; nothing to undo on heal",
          {"workload", "bytes"},
          false,
          "",
          &inject_corrupt_backup};
}

}  // namespace faultline::chaos
