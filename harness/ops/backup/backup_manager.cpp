#include "harness/ops/backup/backup_manager.h"

#include <algorithm>
#include <fstream>

#include "harness/core/error.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"
#include "harness/ops/backup/digest.h"
#include "harness/ops/backup/manifest.h"

namespace faultline::ops {

namespace fs = std::filesystem;

namespace {

std::int64_t wall_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string compact_stamp(std::chrono::system_clock::time_point t) {
  std::string s = iso8601_utc(t);  // 2026-11-22T02:00:00Z -> 20261122T020000Z
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c == '-' || c == ':'; }), s.end());
  return s;
}

}  // namespace

BackupManager::BackupManager(BackupConfig config, Clock& clock, Journal* journal,
                             BackupTarget& target, AlertManager* alerts)
    : config_(std::move(config)),
      schedule_((config_.validate(), CronSchedule::parse(config_.schedule))),
      clock_(clock),
      journal_(journal),
      target_(target),
      alerts_(alerts),
      started_(clock.now()) {
  std::error_code ec;
  fs::create_directories(config_.directory / "wal", ec);
  if (ec) throw UsageError("backup directory: cannot create wal/: " + ec.message());
}

BackupManager::~BackupManager() {
  {
    std::lock_guard gone(guard_->mu);  // waits for a running callback
    guard_->alive = false;
  }
  stop_schedule();
  stop_wal_archiving();
}

void BackupManager::journal(const std::string& kind, const std::string& subject,
                            nlohmann::json fields) {
  if (journal_) journal_->append(kind, subject, std::move(fields));
}

std::vector<BackupManager::Manifest> BackupManager::manifests_newest_first() {
  std::vector<Manifest> out;
  for (const auto& entry : fs::directory_iterator(config_.directory)) {
    if (!entry.is_directory() || entry.path().filename() == "wal") continue;
    std::ifstream in(entry.path() / "manifest.json");
    if (!in) continue;
    try {
      out.push_back(Manifest::from_json(nlohmann::json::parse(in), entry.path()));
    } catch (const std::exception&) {
      continue;  // reported by list()/verify() as corrupted
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Manifest& a, const Manifest& b) { return a.seq > b.seq; });
  return out;
}

std::vector<BackupInfo> BackupManager::list() {
  std::lock_guard lock(mu_);
  std::vector<BackupInfo> out;
  for (const Manifest& m : manifests_newest_first()) {
    out.push_back(BackupInfo{m.backup_id, m.seq, TimePoint(Duration(m.clock_ns)), m.timestamp, true,
                             fs::exists(m.dir / "restore_tested.json")});
  }
  for (const auto& entry : fs::directory_iterator(config_.directory)) {
    const std::string name = entry.path().filename().string();
    if (name == "wal") continue;
    const bool listed = std::any_of(out.begin(), out.end(), [&](const BackupInfo& b) {
      return entry.path().filename() == b.backup_id;
    });
    if (!listed) out.push_back(BackupInfo{name, 0, {}, "", false, false});
  }
  return out;
}

std::optional<std::string> BackupManager::integrity_problem(const Manifest& m) {
  for (const Manifest::File& f : m.files) {
    const fs::path file = m.dir / f.name;
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) return "corrupted: " + f.name + " is missing";
    if (size != f.size) {
      return "corrupted: " + f.name + " has " + std::to_string(size) + " bytes, manifest says " +
             std::to_string(f.size);
    }
    if (sha256_file(file) != f.sha256) return "corrupted: " + f.name + " SHA-256 mismatch";
  }
  if (m.format != target_.format() || m.target != target_.kind()) {
    return "corrupted: a " + m.target + "/" + m.format + " backup, not a " + target_.kind() +
           " one";
  }
  if (auto problem = target_.check_dump(m.dir / m.files.front().name)) {
    return "corrupted: " + *problem;
  }
  return std::nullopt;
}

VerifyResult BackupManager::verify(const std::string& backup_id) {
  std::lock_guard lock(mu_);
  VerifyResult result{backup_id, false, ""};
  const fs::path dir = config_.directory / backup_id;
  if (backup_id.empty() || backup_id.find('/') != std::string::npos || backup_id == "wal" ||
      !fs::exists(dir)) {
    result.problem = "no such backup: " + backup_id;
  } else if (!fs::is_directory(dir)) {
    result.problem = "corrupted: a lone file, not a backup (no manifest)";
  } else {
    try {
      std::ifstream in(dir / "manifest.json");
      if (!in) throw Error("no manifest");
      const Manifest m = Manifest::from_json(nlohmann::json::parse(in), dir);
      if (auto problem = integrity_problem(m)) {
        result.problem = *problem;
      } else {
        result.ok = true;
      }
    } catch (const std::exception& e) {
      result.problem = std::string("corrupted: unreadable manifest: ") + e.what();
    }
  }
  journal("backup.verify", backup_id, {{"ok", result.ok}, {"problem", result.problem}});
  return result;
}

BackupResult BackupManager::create_backup() {
  std::lock_guard lock(mu_);
  const auto wall = clock_.wall_now();
  BackupResult result;
  result.taken_at = clock_.now();
  result.timestamp = iso8601_utc(wall);
  std::uint64_t seq = 1;
  for (const auto& m : manifests_newest_first()) seq = std::max(seq, m.seq + 1);
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-%04llu", static_cast<unsigned long long>(seq));
  result.backup_id = "backup-" + compact_stamp(wall) + suffix;
  const fs::path dir = config_.directory / result.backup_id;
  result.location = dir.string();
  journal("backup.create.start", result.backup_id, {{"target", target_.kind()}});
  try {
    fs::create_directory(dir);
    const fs::path dump = dir / target_.dump_file_name();
    Manifest m;
    // WAL archived from here on is replayable onto this backup (it began before the dump).
    m.wal_next = 1;
    try {
      for (const WalEntry& e : read_wal_manifest()) m.wal_next = std::max(m.wal_next, e.seq + 1);
    } catch (const std::exception&) {
      // an unreadable WAL manifest: archive_wal reports it; the backup itself is still good
    }
    m.tables = target_.dump(dump);
    m.backup_id = result.backup_id;
    m.seq = seq;
    m.timestamp = result.timestamp;
    m.wall_ns = wall_ns(wall);
    m.clock_ns = result.taken_at.time_since_epoch().count();
    m.target = target_.kind();
    m.format = target_.format();
    m.files.push_back({dump.filename().string(), fs::file_size(dump), sha256_file(dump)});
    for (const auto& entry : fs::directory_iterator(dir)) {  // what else the target wrote
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && entry.path() != dump)
        m.files.push_back({name, entry.file_size(), sha256_file(entry.path())});
    }
    m.dir = dir;
    write_file_atomically(dir / "manifest.json", m.to_json().dump(2));
    // The stored copy is read back and checked before the backup is reported as made.
    if (auto problem = integrity_problem(m))
      throw Error("stored copy fails verification: " + *problem);
    result.size_bytes = m.files.front().size;
    result.status = "success";
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    result.status = "failed";
    result.error = e.what();
    log::warn("backup", "backup failed",
              {{"backup_id", result.backup_id}, {"error", result.error}});
  }
  journal("backup.create", result.backup_id,
          {{"status", result.status},
           {"size_bytes", result.size_bytes},
           {"location", result.location},
           {"error", result.error}});
  return result;
}

std::vector<std::string> BackupManager::apply_retention() {
  std::lock_guard lock(mu_);
  const auto horizon =
      wall_ns(clock_.wall_now()) - std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::hours(24) * config_.retention_days)
                                       .count();
  std::vector<std::string> removed;
  const auto manifests = manifests_newest_first();
  std::uint64_t oldest_kept = manifests.empty() ? 0 : manifests.front().wal_next;
  for (std::size_t i = 0; i < manifests.size(); ++i) {
    if (i > 0 && manifests[i].wall_ns < horizon) {
      fs::remove_all(manifests[i].dir);
      removed.push_back(manifests[i].backup_id);
    } else {
      oldest_kept = std::min(oldest_kept, manifests[i].wal_next);
    }
  }
  if (!removed.empty()) {
    // WAL older than the oldest remaining backup can no longer be replayed onto anything.
    std::vector<WalEntry> wal = read_wal_manifest();
    std::vector<WalEntry> kept;
    for (WalEntry& e : wal) {
      if (e.seq < oldest_kept) {
        std::error_code ec;
        fs::remove(config_.directory / "wal" / e.file, ec);
      } else {
        kept.push_back(std::move(e));
      }
    }
    write_wal_manifest(kept);
  }
  journal("backup.retention", "backups",
          {{"removed", removed}, {"retention_days", config_.retention_days}});
  return removed;
}

void BackupManager::start_schedule() {
  std::lock_guard lock(mu_);
  if (!backup_timer_) schedule_next_backup();
}

void BackupManager::stop_schedule() {
  std::lock_guard lock(mu_);
  if (backup_timer_) clock_.cancel(*backup_timer_);
  backup_timer_.reset();
  next_backup_.reset();
}

std::optional<std::chrono::system_clock::time_point> BackupManager::next_scheduled_backup() const {
  std::lock_guard lock(mu_);
  return next_backup_;
}

void BackupManager::schedule_next_backup() {
  const auto wall = clock_.wall_now();
  next_backup_ = schedule_.next_after(wall);
  const auto delay = std::chrono::duration_cast<Duration>(*next_backup_ - wall);
  backup_timer_ = clock_.call_after(delay, [this, guard = guard_] {
    std::lock_guard alive(guard->mu);
    if (!guard->alive) return;
    std::lock_guard lock(mu_);
    if (!backup_timer_) return;
    try {
      const BackupResult r = create_backup();
      if (r.status == "success") apply_retention();
    } catch (const std::exception& e) {
      log::error("backup", "scheduled backup failed", {{"error", e.what()}});
    }
    schedule_next_backup();
  });
}

}  // namespace faultline::ops
