// BackupManager's recovery half: WAL archiving, restore with fallback and point-in-time replay,
// the RPO check and the recovery drill.
#include <algorithm>
#include <fstream>

#include "harness/core/error.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"
#include "harness/ops/alert_manager.h"
#include "harness/ops/backup/backup_manager.h"
#include "harness/ops/backup/digest.h"
#include "harness/ops/backup/manifest.h"

namespace faultline::ops {

namespace fs = std::filesystem;

namespace {

std::int64_t ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

std::vector<BackupManager::WalEntry> BackupManager::read_wal_manifest() {
  std::vector<WalEntry> out;
  std::ifstream in(config_.directory / "wal" / "manifest.json");
  if (!in) return out;
  const nlohmann::json j = nlohmann::json::parse(in);  // damaged: throws, the caller reports it
  for (const auto& e : j.at("segments")) out.push_back(WalEntry::from_json(e));
  return out;
}

void BackupManager::write_wal_manifest(const std::vector<WalEntry>& entries) {
  nlohmann::json segments = nlohmann::json::array();
  for (const WalEntry& e : entries) segments.push_back(e.to_json());
  write_file_atomically(config_.directory / "wal" / "manifest.json",
                        nlohmann::json{{"segments", segments}}.dump(1));
}

std::size_t BackupManager::archive_wal() {
  std::lock_guard lock(mu_);
  return archive_wal_locked();
}

std::size_t BackupManager::archive_wal_locked() {
  std::vector<WalEntry> entries;
  try {
    entries = read_wal_manifest();
  } catch (const std::exception& e) {
    journal("backup.wal_archive", target_.kind(), {{"ok", false}, {"error", e.what()}});
    log::error("backup", "WAL manifest unreadable; not archiving", {{"error", e.what()}});
    return 0;
  }
  const fs::path wal_dir = config_.directory / "wal";
  std::vector<BackupTarget::Segment> segments;
  try {
    segments = target_.archive_wal(wal_dir);
  } catch (const std::exception& e) {
    journal("backup.wal_archive", target_.kind(), {{"ok", false}, {"error", e.what()}});
    log::warn("backup", "WAL archiving failed", {{"error", e.what()}});
    return 0;
  }
  const auto now = clock_.now();
  std::uint64_t next_seq = 1;
  for (const WalEntry& e : entries) next_seq = std::max(next_seq, e.seq + 1);
  for (BackupTarget::Segment& s : segments) {
    const std::string name = s.file.filename().string();
    if (std::any_of(entries.begin(), entries.end(),
                    [&](const WalEntry& e) { return e.file == name; }))
      continue;  // recorded by an earlier run
    WalEntry e;
    e.seq = next_seq++;
    e.file = s.file.filename().string();
    e.size = fs::file_size(s.file);
    e.sha256 = sha256_file(s.file);
    e.clock_ns = now.time_since_epoch().count();
    e.timestamp = iso8601_utc(clock_.wall_now());
    e.position = s.position;
    e.tables = s.digests;
    entries.push_back(std::move(e));
  }
  write_wal_manifest(entries);
  journal("backup.wal_archive", target_.kind(), {{"ok", true}, {"segments", segments.size()}});
  return segments.size();
}

void BackupManager::start_wal_archiving() {
  std::lock_guard lock(mu_);
  if (!archive_timer_) schedule_next_archive();
}

void BackupManager::stop_wal_archiving() {
  std::lock_guard lock(mu_);
  if (archive_timer_) clock_.cancel(*archive_timer_);
  archive_timer_.reset();
}

void BackupManager::schedule_next_archive() {
  archive_timer_ = clock_.call_after(config_.wal_archive_interval, [this, guard = guard_] {
    std::lock_guard alive(guard->mu);
    if (!guard->alive) return;
    std::lock_guard lock(mu_);
    if (!archive_timer_) return;
    try {
      archive_wal_locked();
    } catch (const std::exception& e) {
      log::error("backup", "WAL archiving failed", {{"error", e.what()}});
    }
    schedule_next_archive();
  });
}

RestoreResult BackupManager::restore(const RestoreOptions& options) {
  std::lock_guard lock(mu_);
  return restore_locked(options);
}

RestoreResult BackupManager::test_restore(const std::string& backup_id) {
  std::lock_guard lock(mu_);
  RestoreResult r = restore_locked(RestoreOptions{backup_id, false, std::nullopt});
  if (r.ok && r.backup_id != backup_id) {
    r.ok = r.verified = false;
    r.problem = backup_id + " did not restore; fell back to " + r.backup_id;
  }
  r.database.reset();
  return r;
}

RestoreResult BackupManager::restore_locked(const RestoreOptions& options) {
  RestoreResult result;
  const std::vector<Manifest> manifests = manifests_newest_first();
  bool started = !options.backup_id.has_value();
  if (options.backup_id && !fs::exists(config_.directory / *options.backup_id / "manifest.json")) {
    result.skipped.push_back({*options.backup_id, "corrupted: no readable manifest"});
    started = true;  // fall back to the newest good backup
  }
  std::vector<WalEntry> wal;
  if (options.replay_wal) {
    try {
      wal = read_wal_manifest();
    } catch (const std::exception& e) {
      result.problem = std::string("WAL manifest unreadable: ") + e.what();
    }
  }
  for (const Manifest& m : manifests) {
    if (!started && m.backup_id != *options.backup_id) continue;
    started = true;
    if (options.target_time && m.clock_ns > options.target_time->time_since_epoch().count())
      continue;
    if (auto problem = integrity_problem(m)) {
      result.skipped.push_back({m.backup_id, *problem});
      journal("backup.restore.skip", m.backup_id, {{"reason", *problem}});
      continue;
    }
    // The WAL chain after this backup, up to the target, stopping at the first broken segment.
    std::vector<fs::path> chain;
    const WalEntry* last_applied = nullptr;
    std::optional<std::int64_t> requested_ns;
    std::string chain_problem;
    if (options.replay_wal) {
      for (const WalEntry& e : wal) {
        if (e.seq < m.wal_next) continue;
        if (options.target_time && e.clock_ns > options.target_time->time_since_epoch().count())
          break;
        requested_ns = e.clock_ns;
        if (!chain_problem.empty()) continue;
        const fs::path file = config_.directory / "wal" / e.file;
        std::error_code ec;
        if (!fs::exists(file, ec)) {
          chain_problem = "WAL segment " + e.file + " is missing";
        } else if (fs::file_size(file, ec) != e.size || sha256_file(file) != e.sha256) {
          chain_problem = "WAL segment " + e.file + " is corrupted (checksum)";
        } else if (auto p = target_.check_segment(file)) {
          chain_problem = "WAL segment " + e.file + " is corrupted: " + *p;
        } else {
          chain.push_back(file);
          last_applied = &e;
        }
      }
      if (options.target_time) requested_ns = options.target_time->time_since_epoch().count();
    }
    try {
      result.database = options.replay_wal
                            ? target_.restore_with_wal(
                                  m.dir / m.files.front().name, chain,
                                  last_applied ? last_applied->position : nlohmann::json::object())
                            : target_.restore(m.dir / m.files.front().name);
    } catch (const std::exception& e) {
      result.skipped.push_back({m.backup_id, std::string("restore failed: ") + e.what()});
      journal("backup.restore.skip", m.backup_id, {{"reason", e.what()}});
      continue;
    }
    result.ok = true;
    result.backup_id = m.backup_id;
    result.wal_segments_applied = chain.size();
    result.recovered_to = TimePoint(Duration(last_applied ? last_applied->clock_ns : m.clock_ns));
    result.requested =
        TimePoint(Duration(requested_ns.value_or(result.recovered_to->time_since_epoch().count())));
    if (!chain_problem.empty() && *result.requested > *result.recovered_to)
      result.lost_window = *result.requested - *result.recovered_to;
    // Rows are checked against the source as of the recovered point, when it is known.
    std::string difference;
    const std::optional<TableDigests> expected =
        last_applied ? last_applied->tables : std::optional<TableDigests>(m.tables);
    if (expected) {
      try {
        difference = describe_difference(result.database->digests(), *expected);
      } catch (const std::exception& e) {
        difference = std::string("restored database unreadable: ") + e.what();
      }
    } else {
      difference = "";  // a real WAL replay: the target's own recovery checks (see README)
    }
    if (!difference.empty() && chain.empty()) {
      // The base itself restored different rows: never hand it out; try the previous one.
      result.skipped.push_back({m.backup_id, "corrupted: restored rows differ: " + difference});
      result.database.reset();
      result.ok = false;
      continue;
    }
    result.problem = !chain_problem.empty()
                         ? chain_problem + "; stopped at the last consistent point"
                         : difference;
    result.verified = chain_problem.empty() && difference.empty();
    if (result.verified && chain.empty()) {
      write_file_atomically(m.dir / "restore_tested.json",
                            nlohmann::json{{"at", iso8601_utc(clock_.wall_now())}}.dump());
    }
    break;
  }
  if (!result.ok && result.problem.empty()) {
    result.problem = "no restorable backup";
    for (const auto& s : result.skipped) result.problem += "; " + s.backup_id + ": " + s.reason;
  }
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& s : result.skipped)
    skipped.push_back({{"backup_id", s.backup_id}, {"reason", s.reason}});
  journal("backup.restore", result.backup_id.empty() ? "none" : result.backup_id,
          {{"ok", result.ok},
           {"verified", result.verified},
           {"skipped", skipped},
           {"wal_segments_applied", result.wal_segments_applied},
           {"lost_window_ms", ms(result.lost_window)},
           {"problem", result.problem}});
  return result;
}

RpoReport BackupManager::rpo_check() {
  std::lock_guard lock(mu_);
  RpoReport report;
  report.target = config_.rpo_target;
  report.source = "none";
  for (const Manifest& m : manifests_newest_first()) {
    if (integrity_problem(m)) continue;
    report.newest_recoverable = TimePoint(Duration(m.clock_ns));
    report.source = "backup " + m.backup_id;
    try {
      for (const WalEntry& e : read_wal_manifest()) {
        if (e.seq < m.wal_next) continue;
        const fs::path file = config_.directory / "wal" / e.file;
        std::error_code ec;
        if (!fs::exists(file, ec) || fs::file_size(file, ec) != e.size ||
            sha256_file(file) != e.sha256)
          break;
        report.newest_recoverable = TimePoint(Duration(e.clock_ns));
        report.source = "wal " + e.file;
      }
    } catch (const std::exception&) {
      // an unreadable WAL manifest: only the backup is recoverable
    }
    break;
  }
  const TimePoint now = clock_.now();
  report.rpo = now - report.newest_recoverable.value_or(started_);
  report.violated = report.rpo > report.target;
  journal("backup.rpo", report.source,
          {{"rpo_ms", ms(report.rpo)},
           {"target_ms", ms(report.target)},
           {"violated", report.violated}});
  if (report.violated || rpo_alert_firing_) {
    Alert alert;
    alert.rule = "BackupRpoViolated";
    alert.severity = Severity::critical;
    alert.labels = {
        {"alertname", alert.rule}, {"severity", "critical"}, {"target", target_.kind()}};
    alert.value = std::chrono::duration<double>(report.rpo).count();
    alert.at = now;
    alert.active_since = now;
    alert.resolved = !report.violated;
    alert.summary = "newest recoverable point is " + std::to_string(ms(report.rpo) / 1000) +
                    " s old (" + report.source + "); RPO target " +
                    std::to_string(config_.rpo_target.count()) + " s";
    rpo_alert_firing_ = report.violated;
    journal("alert", alert.rule, {{"resolved", alert.resolved}, {"summary", alert.summary}});
    if (alerts_) alerts_->submit(alert);
    if (report.violated) log::error("backup", "RPO violated", {{"summary", alert.summary}});
  }
  return report;
}

DrillReport BackupManager::recovery_drill(const DrillOptions& options) {
  std::lock_guard lock(mu_);
  DrillReport report;
  const TimePoint lost_at = clock_.now();
  journal("backup.drill.start", target_.kind(), {});
  if (options.destroy) options.destroy();
  report.restore = restore_locked(RestoreOptions{std::nullopt, true, std::nullopt});
  std::string health;
  if (report.restore.ok && options.health_check)
    health = options.health_check(*report.restore.database);
  const TimePoint healthy_at = clock_.now();
  report.rto = healthy_at - lost_at;
  report.rpo =
      report.restore.recovered_to ? lost_at - *report.restore.recovered_to : lost_at - started_;
  report.rto_met = report.restore.ok && health.empty() && report.rto < config_.rto_target;
  report.rpo_met = report.restore.ok && report.rpo < config_.rpo_target;
  report.passed = report.rto_met && report.rpo_met && report.restore.verified;
  report.problem = !report.restore.ok ? report.restore.problem
                   : !health.empty()  ? "unhealthy after restore: " + health
                                      : report.restore.problem;
  journal("backup.drill", report.restore.backup_id.empty() ? "none" : report.restore.backup_id,
          {{"rto_ms", ms(report.rto)},
           {"rpo_ms", ms(report.rpo)},
           {"rto_target_ms", ms(config_.rto_target)},
           {"rpo_target_ms", ms(config_.rpo_target)},
           {"verified", report.restore.verified},
           {"passed", report.passed},
           {"problem", report.problem}});
  return report;
}

}  // namespace faultline::ops
