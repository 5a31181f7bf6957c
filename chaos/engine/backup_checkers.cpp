// The backup checker of the registry (checkers.h), decided on the journal of a `backup` workload
// (workloads/backup.cpp) and the corrupt-backup faults (backup_faults.cpp):
//
//   backup-restored  the restore after the method succeeded and was verified (its rows match what
//                    the backup recorded); it did not use a corrupted backup, and each one was
//                    detected (skipped as corrupted); it fell back to the newest backup that was
//                    taken successfully and not corrupted; and the RPO it reported is within
//                    `within`.
#include <cstdio>
#include <set>

#include "chaos/engine/checkers.h"

namespace faultline::chaos {

CheckResult backup_restored(const InvariantSpec& s, const std::vector<Event>& ev) {
  using Status = CheckResult::Status;
  std::set<std::string> corrupted;
  std::vector<std::string> taken;  // in order
  const Event* restore = nullptr;
  const Event* failed = nullptr;
  for (const auto& e : ev) {
    if (e.kind == event_kind::kDecision && e.subject == "corrupt-backup" &&
        e.fields.value("workload", "") == s.workload)
      corrupted.insert(e.fields["backup_id"].get<std::string>());
    if (e.subject != s.workload) continue;
    const std::string op = e.fields.value("op", "");
    if (e.kind == event_kind::kOpOk && op == "backup")
      taken.push_back(e.fields["backup_id"].get<std::string>());
    if (e.kind == event_kind::kOpOk && op == "restore") restore = &e;
    if (e.kind == event_kind::kOpFail && op == "restore") failed = &e;
  }
  if (failed)
    return {s.check, Status::fail,
            "the restore failed: " + failed->fields.value("problem", std::string("?"))};
  if (!restore) return {s.check, Status::unknown, "no restore in the journal"};
  const auto& f = restore->fields;
  const std::string used = f["backup_id"].get<std::string>();
  if (!f.value("verified", false))
    return {s.check, Status::fail,
            "restored " + used + " but it was not verified: " + f.value("problem", std::string())};
  if (corrupted.count(used))
    return {s.check, Status::fail, "restored the corrupted backup " + used};
  for (const auto& c : corrupted) {
    bool detected = false;
    for (const auto& sk : f["skipped"])
      detected = detected || (sk["backup_id"] == c &&
                              sk["reason"].get<std::string>().rfind("corrupted", 0) == 0);
    if (!detected) return {s.check, Status::fail, "the corruption of " + c + " was not detected"};
  }
  // The fallback is the newest good backup: none taken after it, except corrupted ones.
  std::string expected;
  for (const auto& id : taken)
    if (!corrupted.count(id)) expected = id;
  if (used != expected)
    return {s.check, Status::fail,
            "restored " + used + ", but the newest good backup was " + expected};
  if (!f.contains("rpo_ms")) return {s.check, Status::fail, "no RPO reported"};
  const std::int64_t rpo = f["rpo_ms"].get<std::int64_t>();
  const std::int64_t limit = s.within.count();
  char detail[512];
  std::snprintf(detail, sizeof detail,
                "restored %s (verified) after skipping %zu corrupted backup(s); RPO %.1fs "
                "(limit %.1fs), RTO %.1fs",
                used.c_str(), corrupted.size(), static_cast<double>(rpo) / 1000,
                static_cast<double>(limit) / 1000,
                static_cast<double>(f.value("rto_ms", std::int64_t{0})) / 1000);
  if (corrupted.empty())
    return {s.check, Status::unknown, std::string("no backup was corrupted: ") + detail};
  return {s.check, rpo <= limit ? Status::pass : Status::fail, detail};
}

}  // namespace faultline::chaos
