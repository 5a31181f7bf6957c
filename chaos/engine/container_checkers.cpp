// restarts-with-backoff (checkers.h): a service that keeps dying is restarted by the Orchestrator
// with a backoff that doubles, at most `attempts` times, and then given up on — decided on the
// Orchestrator's own journal events under the service's name (service.failed,
// service.restart_scheduled {backoff_ms}, service.start {attempt}, service.error). Services named
// in `unaffected` must never have failed.
#include <cstdio>

#include "chaos/engine/checkers.h"

namespace faultline::chaos {
CheckResult restarts_with_backoff(const InvariantSpec& s, const std::vector<Event>& ev) {
  using Status = CheckResult::Status;
  const std::string service = s.params.value("service", "");
  const int attempts = s.params.value("attempts", 3);
  if (service.empty()) return {s.check, Status::unknown, "params.service names no service"};
  for (const auto& other : s.params.value("unaffected", std::vector<std::string>{}))
    for (const auto& e : ev)
      if (e.subject == other && e.kind == "service.failed")
        return {s.check, Status::fail,
                other + " failed at " + seconds_text(e.sim_ns) + " though only " + service +
                    " was faulted"};

  std::vector<std::int64_t> backoffs_ms;
  std::vector<std::int64_t> delays_ns;  // restart_scheduled -> the restart's service.start
  std::int64_t scheduled_at = -1;       // -1: no restart pending
  std::optional<std::int64_t> gave_up_at;
  int restarts = 0, failures = 0;
  std::int64_t first_failure = 0;
  for (const auto& e : ev) {
    if (e.subject != service) continue;
    if (e.kind == "service.failed" && failures++ == 0) first_failure = e.sim_ns;
    if (e.kind == "service.restart_scheduled") {
      backoffs_ms.push_back(e.fields.value("backoff_ms", std::int64_t{0}));
      scheduled_at = e.sim_ns;
    }
    if (e.kind == "service.start" && e.fields.value("attempt", 0) > 0) {
      if (gave_up_at)
        return {s.check, Status::fail,
                service + " restarted at " + seconds_text(e.sim_ns) + " after it was given up on"};
      if (scheduled_at < 0)
        return {s.check, Status::fail, service + " restarted without a scheduled backoff"};
      delays_ns.push_back(e.sim_ns - scheduled_at);
      scheduled_at = -1;
      ++restarts;
    }
    if (e.kind == "service.error" && !gave_up_at) gave_up_at = e.sim_ns;
  }
  if (failures == 0)
    return {s.check, Status::fail, service + " never failed: the fault did nothing"};
  for (std::size_t i = 1; i < backoffs_ms.size(); ++i)
    if (backoffs_ms[i] != 2 * backoffs_ms[i - 1])
      return {s.check, Status::fail,
              "backoff " + std::to_string(backoffs_ms[i]) + " ms after " +
                  std::to_string(backoffs_ms[i - 1]) + " ms: not doubling"};
  for (std::size_t i = 0; i < delays_ns.size(); ++i)
    if (delays_ns[i] < backoffs_ms[i] * 1'000'000)
      return {s.check, Status::fail,
              "restart " + std::to_string(i + 1) + " came " + seconds_text(delays_ns[i]) +
                  " after it was scheduled, before its " + std::to_string(backoffs_ms[i]) +
                  " ms backoff"};
  if (restarts != attempts)
    return {s.check, Status::fail,
            service + " restarted " + std::to_string(restarts) + " times, expected " +
                std::to_string(attempts)};
  if (!gave_up_at)
    return {
        s.check, Status::fail,
        service + " was restarted " + std::to_string(restarts) + " times and never given up on"};
  std::string list;
  for (auto b : backoffs_ms) list += (list.empty() ? "" : ", ") + std::to_string(b) + " ms";
  return {s.check, Status::pass,
          service + " restarted " + std::to_string(restarts) + " times with backoff " + list +
              ", given up on " + seconds_text(*gave_up_at - first_failure) +
              " after its first failure"};
}

}  // namespace faultline::chaos
