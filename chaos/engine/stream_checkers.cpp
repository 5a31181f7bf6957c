// The stream checkers of the registry (checkers.h), decided on the journal of a `stream`
// workload (workloads/stream.cpp):
//
//   no-acked-message-lost  every message whose produce was acknowledged (acks=all) was consumed
//                          by the consumer group by the end of the run
//   lag-recovers-within    after each heal, the consumers' lag (acknowledged messages not yet
//                          consumed) is back at or under params.max_lag (default 0) within
//                          `within`; and, unless params.consume_during is false, the group kept
//                          consuming while each fault was active (consumers continue)
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "chaos/engine/checkers.h"

namespace faultline::chaos {
namespace {

using Status = CheckResult::Status;

bool is(const Event& e, const std::string& workload, const char* kind, const char* op) {
  return e.kind == kind && e.subject == workload && e.fields.value("op", "") == op;
}

}  // namespace

CheckResult no_acked_message_lost(const InvariantSpec& s, const std::vector<Event>& ev) {
  std::set<std::int64_t> acked, consumed;
  for (const auto& e : ev) {
    if (is(e, s.workload, event_kind::kOpOk, "produce"))
      acked.insert(e.fields["id"].get<std::int64_t>());
    if (is(e, s.workload, event_kind::kOpOk, "consume"))
      consumed.insert(e.fields["id"].get<std::int64_t>());
  }
  if (acked.empty()) return {s.check, Status::unknown, "no message was acknowledged"};
  std::vector<std::int64_t> lost;
  for (auto id : acked)
    if (!consumed.count(id)) lost.push_back(id);
  if (lost.empty())
    return {s.check, Status::pass,
            std::to_string(acked.size()) + " acknowledged messages, all consumed"};
  return {s.check, Status::fail,
          std::to_string(lost.size()) + " of " + std::to_string(acked.size()) +
              " acknowledged messages never consumed, first id " + std::to_string(lost.front())};
}

CheckResult lag_recovers_within(const InvariantSpec& s, const std::vector<Event>& ev) {
  const std::int64_t max_lag = s.params.value("max_lag", 0);
  const bool consume_during = s.params.value("consume_during", true);
  struct Window {
    std::string kind;
    std::int64_t from = 0, to = -1;
  };
  std::map<std::string, Window> open;
  std::vector<Window> windows;
  for (const auto& e : ev) {
    if (e.kind == event_kind::kFaultInject)
      open[e.subject] = {e.fields.value("kind", ""), e.sim_ns, -1};
    if (e.kind == event_kind::kFaultHeal && open.count(e.subject)) {
      open[e.subject].to = e.sim_ns;
      windows.push_back(open[e.subject]);
      open.erase(e.subject);
    }
  }
  if (!open.empty()) return {s.check, Status::fail, "a fault was never healed"};
  if (windows.empty()) return {s.check, Status::unknown, "no fault was healed"};
  const std::int64_t limit = s.within.count() * 1'000'000;
  std::int64_t worst = 0, peak = 0;
  std::size_t during = 0;
  for (const auto& w : windows) {
    std::size_t consumed = 0;
    std::optional<std::int64_t> back;
    for (const auto& e : ev) {
      if (e.subject != s.workload) continue;
      if (is(e, s.workload, event_kind::kOpOk, "consume") && e.sim_ns >= w.from && e.sim_ns <= w.to)
        ++consumed;
      const bool poll = is(e, s.workload, event_kind::kOpOk, "poll") ||
                        is(e, s.workload, event_kind::kOpFail, "poll");
      if (!poll) continue;
      const std::int64_t lag = e.fields.value("lag", std::int64_t{0});
      if (e.sim_ns >= w.from && e.sim_ns <= w.to) peak = std::max(peak, lag);
      if (!back && e.sim_ns >= w.to && lag <= max_lag) back = e.sim_ns;
    }
    if (consume_during && consumed == 0)
      return {s.check, Status::fail,
              "nothing was consumed while the " + w.kind + " fault from " + seconds_text(w.from) +
                  " to " + seconds_text(w.to) + " was active (consumers stalled)"};
    during += consumed;
    if (!back)
      return {s.check, Status::fail,
              "lag never came back to " + std::to_string(max_lag) + " after the " + w.kind +
                  " heal at " + seconds_text(w.to)};
    worst = std::max(worst, *back - w.to);
  }
  const std::string detail =
      "lag at most " + std::to_string(peak) + " during the faults (" + std::to_string(during) +
      " messages consumed meanwhile), back to <= " + std::to_string(max_lag) + " " +
      seconds_text(worst) + " after the heal (limit " + seconds_text(limit) + ")";
  return {s.check, worst <= limit ? Status::pass : Status::fail, detail};
}

}  // namespace faultline::chaos
