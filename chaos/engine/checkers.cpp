#include "chaos/engine/checkers.h"

#include <algorithm>
#include <map>
#include <set>

namespace faultline::chaos {

// stream_checkers.cpp, backup_checkers.cpp
CheckResult no_acked_message_lost(const InvariantSpec& s, const std::vector<Event>& ev);
CheckResult lag_recovers_within(const InvariantSpec& s, const std::vector<Event>& ev);
CheckResult backup_restored(const InvariantSpec& s, const std::vector<Event>& ev);
// container_checkers.cpp, gpu_checkers.cpp
CheckResult restarts_with_backoff(const InvariantSpec& s, const std::vector<Event>& ev);
CheckResult jobs_moved_off(const InvariantSpec& s, const std::vector<Event>& ev);

std::string seconds_text(std::int64_t ns) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1fs", static_cast<double>(ns) / 1e9);
  return b;
}

namespace {

using Status = CheckResult::Status;
constexpr std::int64_t kMs = 1'000'000;

struct Window {
  std::string kind;
  std::int64_t from = 0, to = INT64_MAX;
};

// Fault windows from the runner's fault.inject / fault.heal events.
std::vector<Window> fault_windows(const std::vector<Event>& events) {
  std::map<std::string, Window> open;
  std::vector<Window> out;
  for (const auto& e : events) {
    if (e.kind == event_kind::kFaultInject && e.fields.contains("kind")) {
      open[e.subject] = {e.fields["kind"].get<std::string>(), e.sim_ns, INT64_MAX};
    } else if (e.kind == event_kind::kFaultHeal && open.count(e.subject)) {
      auto w = open[e.subject];
      w.to = e.sim_ns;
      out.push_back(w);
      open.erase(e.subject);
    }
  }
  for (auto& [_, w] : open) out.push_back(w);
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.from < b.from; });
  return out;
}

bool in_fault(const std::vector<Window>& ws, std::int64_t t) {
  for (const auto& w : ws)
    if (t >= w.from && t <= w.to) return true;
  return false;
}

bool is_op(const Event& e, const std::string& workload, const char* kind) {
  return e.kind == kind && e.subject == workload;
}

CheckResult result(const InvariantSpec& s, Status st, std::string detail) {
  return {s.check, st, std::move(detail)};
}

CheckResult no_acked_write_lost(const InvariantSpec& s, const std::vector<Event>& ev) {
  std::set<std::int64_t> acked, read;
  bool have_read = false;
  for (const auto& e : ev) {
    if (!is_op(e, s.workload, event_kind::kOpOk)) continue;
    const std::string op = e.fields.value("op", "");
    if (op == "write") acked.insert(e.fields["id"].get<std::int64_t>());
    if (op == "read-all") {
      have_read = true;
      for (const auto& id : e.fields["ids"]) read.insert(id.get<std::int64_t>());
    }
  }
  if (!have_read) return result(s, Status::unknown, "the final read-back did not succeed");
  std::vector<std::int64_t> lost;
  for (auto id : acked)
    if (!read.count(id)) lost.push_back(id);
  if (lost.empty())
    return result(s, Status::pass,
                  std::to_string(acked.size()) + " acknowledged writes, all read back");
  return result(s, Status::fail,
                std::to_string(lost.size()) + " acknowledged writes lost, first id " +
                    std::to_string(lost.front()));
}

CheckResult pool_within_bound(const InvariantSpec& s, const std::vector<Event>& ev) {
  int most = -1, bound = 0;
  for (const auto& e : ev) {
    if (e.subject != s.workload || !e.fields.contains("pool_open")) continue;
    most = std::max(most, e.fields["pool_open"].get<int>());
    bound = e.fields["pool_max"].get<int>();
    if (most > bound)
      return result(s, Status::fail,
                    std::to_string(most) + " connections open, bound " + std::to_string(bound));
  }
  if (most < 0) return result(s, Status::unknown, "no pool figures in the journal");
  return result(s, Status::pass,
                "at most " + std::to_string(most) + " of " + std::to_string(bound) + " open");
}

CheckResult writes_resume_within(const InvariantSpec& s, const std::vector<Event>& ev) {
  const auto ws = fault_windows(ev);
  if (ws.empty()) return result(s, Status::unknown, "no fault was healed");
  std::int64_t worst = 0;
  for (const auto& w : ws) {
    if (w.to == INT64_MAX)
      return result(s, Status::fail, "a " + w.kind + " fault was never healed");
    std::optional<std::int64_t> first;
    for (const auto& e : ev)
      if (e.sim_ns >= w.to && is_op(e, s.workload, event_kind::kOpOk)) {
        first = e.sim_ns;
        break;
      }
    if (!first)
      return result(s, Status::fail,
                    "no success after the " + w.kind + " heal at " + seconds_text(w.to));
    worst = std::max(worst, *first - w.to);
  }
  const auto limit = s.within.count() * kMs;
  return result(s, worst <= limit ? Status::pass : Status::fail,
                "slowest resumption " + seconds_text(worst) + " after heal (limit " +
                    seconds_text(limit) + ")");
}

CheckResult alert_raised_within(const InvariantSpec& s, const std::vector<Event>& ev) {
  const auto ws = fault_windows(ev);
  if (ws.empty()) return result(s, Status::unknown, "no fault was injected");
  std::vector<std::int64_t> firings;
  for (const auto& e : ev)
    if (e.kind == "alert" && e.subject == s.alert && e.fields.value("state", "") == "firing")
      firings.push_back(e.sim_ns);
  const auto limit = s.within.count() * kMs;
  for (const auto& w : ws) {
    bool raised = std::any_of(firings.begin(), firings.end(),
                              [&](auto t) { return t >= w.from && t - w.from <= limit; });
    if (!raised)
      return result(s, Status::fail,
                    "alert " + s.alert + " not raised within " + seconds_text(limit) + " of the " +
                        w.kind + " fault at " + seconds_text(w.from));
  }
  if (s.params.value("once", false) && firings.size() != ws.size())
    return result(s, Status::fail,
                  "alert " + s.alert + " raised " + std::to_string(firings.size()) + " times for " +
                      std::to_string(ws.size()) + " faults");
  return result(s, Status::pass,
                "alert " + s.alert + " raised " + std::to_string(firings.size()) +
                    " time(s), each within " + seconds_text(limit));
}

CheckResult healthy_within(const InvariantSpec& s, const std::vector<Event>& ev) {
  const auto ws = fault_windows(ev);
  std::int64_t last_heal = 0;
  for (const auto& w : ws) last_heal = std::max(last_heal, w.to == INT64_MAX ? 0 : w.to);
  for (const auto& e : ev)
    if (e.kind == event_kind::kProbe && e.sim_ns >= last_heal &&
        e.fields.value("kind", "") == "service-healthy" &&
        e.fields.value("target", "") == s.target && e.fields.value("ok", false)) {
      const auto took = e.sim_ns - last_heal, limit = s.within.count() * kMs;
      return result(s, took <= limit ? Status::pass : Status::fail,
                    s.target + " healthy " + seconds_text(took) + " after the last heal (RTO " +
                        seconds_text(limit) + ")");
    }
  return result(s, Status::fail, s.target + " never healthy again after the last heal");
}

CheckResult no_stale_reads(const InvariantSpec& s, const std::vector<Event>& ev) {
  int reads = 0;
  for (const auto& e : ev) {
    if (!is_op(e, s.workload, event_kind::kOpOk) || e.fields.value("op", "") != "get") continue;
    ++reads;
    const auto& v = e.fields["value"];
    const auto& x = e.fields["expected"];
    if (!x.is_null() && v != x)
      return result(s, Status::fail,
                    "read of " + e.fields["key"].get<std::string>() + " at " +
                        seconds_text(e.sim_ns) + " returned " + v.dump() + ", expected " +
                        x.dump());
  }
  return result(s, reads ? Status::pass : Status::unknown,
                std::to_string(reads) + " reads, none stale");
}

CheckResult no_errors(const InvariantSpec& s, const std::vector<Event>& ev) {
  std::set<std::string> allow;
  for (const auto& a : s.params.value("allow", nlohmann::json::array()))
    allow.insert(a.get<std::string>());
  int ops = 0, tolerated = 0;
  for (const auto& e : ev) {
    if (e.subject != s.workload) continue;
    if (e.kind == event_kind::kOpOk) ++ops;
    if (e.kind != event_kind::kOpFail && e.kind != event_kind::kOpInfo) continue;
    ++ops;
    const std::string reason = e.fields.value("reason", "");
    if (allow.count(reason)) {
      ++tolerated;
      continue;
    }
    return result(s, Status::fail, "a caller saw '" + reason + "' at " + seconds_text(e.sim_ns));
  }
  return result(s, Status::pass,
                std::to_string(ops) + " operations, no errors" +
                    (tolerated ? " beyond " + std::to_string(tolerated) + " tolerated" : ""));
}

CheckResult fails_with(const InvariantSpec& s, const std::vector<Event>& ev) {
  const auto ws = fault_windows(ev);
  const std::string reason = s.params.value("reason", "");
  int during = 0;
  for (const auto& e : ev) {
    if (!is_op(e, s.workload, event_kind::kOpFail) || e.fields.value("reason", "") != reason)
      continue;
    if (!in_fault(ws, e.sim_ns))
      return result(s, Status::fail,
                    "'" + reason + "' at " + seconds_text(e.sim_ns) + " with no fault active");
    ++during;
  }
  if (!during)
    return result(s, Status::fail, "no operation failed with '" + reason + "' during the faults");
  return result(s, Status::pass,
                std::to_string(during) + " operations failed with '" + reason +
                    "', all while a fault was active");
}

CheckResult slo_breach_detected(const InvariantSpec& s, const std::vector<Event>& ev) {
  const auto ws = fault_windows(ev);
  const double slo = s.params.value("slo_ms", 250.0);
  int over = 0;
  std::int64_t first = -1, last = -1;
  for (const auto& e : ev) {
    if (!is_op(e, s.workload, event_kind::kOpOk) || !e.fields.contains("latency_ms")) continue;
    if (e.fields["latency_ms"].get<double>() <= slo) continue;
    if (!in_fault(ws, e.sim_ns))
      return result(s, Status::fail,
                    "an operation over the " + std::to_string(int(slo)) + " ms SLO at " +
                        seconds_text(e.sim_ns) + " with no fault active");
    ++over;
    if (first < 0) first = e.sim_ns;
    last = e.sim_ns;
  }
  if (!over) return result(s, Status::fail, "no SLO breach seen while the fault was active");
  return result(s, Status::pass,
                "SLO breach: " + std::to_string(over) + " operations over " +
                    std::to_string(int(slo)) + " ms from " + seconds_text(first) + " to " +
                    seconds_text(last));
}

CheckResult expired_after_skew(const InvariantSpec& s, const std::vector<Event>& ev) {
  std::optional<std::int64_t> skew;
  for (const auto& e : ev)
    if (e.kind == event_kind::kFaultInject && e.fields.value("kind", "") == "clock-skew")
      skew = e.sim_ns;
  if (!skew) return result(s, Status::unknown, "no clock-skew fault was injected");
  std::set<std::string> seen;
  int checked = 0;
  for (const auto& e : ev) {
    if (e.sim_ns < *skew || !is_op(e, s.workload, event_kind::kOpOk) ||
        e.fields.value("op", "") != "get")
      continue;
    const std::string key = e.fields["key"].get<std::string>();
    if (!seen.insert(key).second) continue;
    ++checked;
    if (e.fields.value("hit", false))
      return result(s, Status::fail, key + " served from cache after the clock passed its TTL");
  }
  return result(s, checked ? Status::pass : Status::unknown,
                std::to_string(checked) + " keys read after the skew, none served past its TTL");
}

CheckResult never_overlap(const InvariantSpec& s, const std::vector<Event>& ev) {
  const auto kinds = s.params.value("kinds", std::vector<std::string>{});
  const auto ws = fault_windows(ev);
  for (std::size_t i = 0; i < ws.size(); ++i)
    for (std::size_t j = i + 1; j < ws.size(); ++j) {
      const auto &a = ws[i], &b = ws[j];
      const bool pair = kinds.size() == 2 && ((a.kind == kinds[0] && b.kind == kinds[1]) ||
                                              (a.kind == kinds[1] && b.kind == kinds[0]));
      if (pair && a.from < b.to && b.from < a.to)
        return result(
            s, Status::fail,
            a.kind + " and " + b.kind + " overlapped at " + seconds_text(std::max(a.from, b.from)));
    }
  return result(s, Status::pass, "no overlap");
}

const std::vector<CheckerKind>& kinds() {
  static const std::vector<CheckerKind> k = {
      {"no-acked-write-lost", {"workload"}, {}, no_acked_write_lost},
      {"pool-within-bound", {"workload"}, {}, pool_within_bound},
      {"writes-resume-within", {"workload", "within"}, {}, writes_resume_within},
      {"alert-raised-within", {"alert", "within"}, {"once"}, alert_raised_within},
      {"healthy-within", {"target", "within"}, {}, healthy_within},
      {"no-stale-reads", {"workload"}, {}, no_stale_reads},
      {"no-errors", {"workload"}, {"allow"}, no_errors},
      {"fails-with", {"workload"}, {"reason"}, fails_with},
      {"slo-breach-detected", {"workload"}, {"slo_ms"}, slo_breach_detected},
      {"expired-after-skew", {"workload"}, {}, expired_after_skew},
      {"never-overlap", {}, {"kinds"}, never_overlap},
      {"no-acked-message-lost", {"workload"}, {}, no_acked_message_lost},
      {"lag-recovers-within",
       {"workload", "within"},
       {"max_lag", "consume_during"},
       lag_recovers_within},
      {"backup-restored", {"workload", "within"}, {}, backup_restored},
      {"restarts-with-backoff", {}, {"service", "attempts", "unaffected"}, restarts_with_backoff},
      {"jobs-moved-off", {"workload", "within"}, {"device"}, jobs_moved_off},
  };
  return k;
}

}  // namespace

std::string_view to_string(CheckResult::Status status) {
  switch (status) {
    case Status::pass:
      return "pass";
    case Status::fail:
      return "fail";
    case Status::unknown:
      return "unknown";
  }
  return "unknown";
}

const CheckerKind* find_checker_kind(const std::string& name) {
  for (const auto& k : kinds())
    if (k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> checker_kind_names() {
  std::vector<std::string> out;
  for (const auto& k : kinds()) out.push_back(k.name);
  return out;
}

std::vector<CheckResult> run_checkers(const std::vector<InvariantSpec>& invariants,
                                      const std::vector<Event>& events) {
  std::vector<CheckResult> out;
  for (const auto& inv : invariants) {
    try {
      out.push_back(find_checker_kind(inv.check)->check(inv, events));
    } catch (const std::exception& e) {
      out.push_back({inv.check, Status::unknown, std::string("checker error: ") + e.what()});
    }
  }
  return out;
}

}  // namespace faultline::chaos
