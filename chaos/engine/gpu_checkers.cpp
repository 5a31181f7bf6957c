// jobs-moved-off (checkers.h): after a device fault, the gpu-jobs workload's scheduler notices it
// within `within`, every job that was on the device moves off it (resuming from a checkpoint), no
// job is placed on it until the fault is healed, and every job submitted completes — decided on
// the workload's "submit", "schedule" and "complete" operations.
#include <cstdio>
#include <map>
#include <set>

#include "chaos/engine/checkers.h"

namespace faultline::chaos {
namespace {

bool on_device(const nlohmann::json& where, const std::string& suffix) {
  if (!where.is_string()) return false;
  const auto w = where.get<std::string>();
  return w.size() >= suffix.size() &&
         w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

CheckResult jobs_moved_off(const InvariantSpec& s, const std::vector<Event>& ev) {
  using Status = CheckResult::Status;
  const std::string suffix = "/CUDA:" + std::to_string(s.params.value("device", 0));
  std::optional<std::int64_t> fault_at, heal_at;
  std::string fault_subject;
  for (const auto& e : ev) {
    if (!fault_at && e.kind == event_kind::kFaultInject) {
      fault_at = e.sim_ns;
      fault_subject = e.subject;
    } else if (fault_at && !heal_at && e.kind == event_kind::kFaultHeal &&
               e.subject == fault_subject) {
      heal_at = e.sim_ns;
    }
  }
  if (!fault_at) return {s.check, Status::unknown, "no fault was injected"};
  const std::int64_t healed = heal_at.value_or(INT64_MAX);

  std::set<std::string> on_before;  // on the device at the last schedule before the fault
  std::set<std::string> submitted, completed, moved_off;
  std::optional<std::int64_t> detected_at;
  for (const auto& e : ev) {
    if (e.subject != s.workload || e.kind != event_kind::kOpOk) continue;
    const std::string op = e.fields.value("op", "");
    if (op == "submit") submitted.insert(e.fields.value("job", ""));
    if (op == "complete") completed.insert(e.fields.value("job", ""));
    if (op != "schedule") continue;
    const auto& placement = e.fields["placement"];
    if (e.sim_ns < *fault_at) {
      on_before.clear();
      for (const auto& [job, where] : placement.items())
        if (on_device(where, suffix)) on_before.insert(job);
      continue;
    }
    for (const auto& m : e.fields["moved"])
      if (on_device(m["from"], suffix)) moved_off.insert(m["job"].get<std::string>());
    bool unhealthy = false;
    for (const auto& d : e.fields["unhealthy"]) unhealthy |= on_device(d, suffix);
    if (unhealthy && !detected_at) detected_at = e.sim_ns;
    if (detected_at && e.sim_ns < healed)
      for (const auto& [job, where] : placement.items())
        if (on_device(where, suffix))
          return {s.check, Status::fail,
                  job + " on the failed " + suffix.substr(1) + " at " + seconds_text(e.sim_ns) +
                      ", after the scheduler saw it fail"};
  }
  if (!detected_at)
    return {s.check, Status::fail, "the scheduler never saw " + suffix.substr(1) + " fail"};
  const std::int64_t took = *detected_at - *fault_at;
  const std::int64_t limit = s.within.count() * std::int64_t{1'000'000};
  if (took > limit)
    return {s.check, Status::fail,
            suffix.substr(1) + " seen failed " + seconds_text(took) + " after the fault (limit " +
                seconds_text(limit) + ")"};
  for (const auto& job : on_before)
    if (!moved_off.count(job) && !completed.count(job))
      return {s.check, Status::fail,
              job + " was on " + suffix.substr(1) + " and never moved off it"};
  for (const auto& job : submitted)
    if (!completed.count(job)) return {s.check, Status::fail, job + " never completed (lost)"};
  if (on_before.empty())
    return {s.check, Status::unknown, "no job was on " + suffix.substr(1) + " when the fault hit"};
  return {s.check, Status::pass,
          std::to_string(moved_off.size()) + " jobs moved off " + suffix.substr(1) + " " +
              seconds_text(took) + " after the fault; all " + std::to_string(completed.size()) +
              " jobs completed"};
}

}  // namespace faultline::chaos
