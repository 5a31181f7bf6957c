// Checkers: the invariants of a scenario, decided on the journal alone after the run.
//
//   no-acked-write-lost   every write a workload saw acknowledged is in its final read-back
//   pool-within-bound     the pool never had more connections open than its bound
//   writes-resume-within  after each heal, the workload's next success comes within `within`
//   alert-raised-within   each fault raises `alert` within `within`; with {once: true} only once
//   healthy-within        the target's health probe passes within `within` (the RTO) of the
//                         last heal
//   no-stale-reads        no read returned a value older than the last acknowledged write
//   no-errors             callers saw no failures (params.allow lists tolerated reasons)
//   fails-with            while a fault was active, operations failed with params.reason (the
//                         failure mode the scenario expects, e.g. pool-timeout), and only then
//   slo-breach-detected   operations over params.slo_ms happened while a fault was active, none
//                         outside; the breach windows are reported
//   expired-after-skew    after a clock jump past the TTL, no key's first read is a cache hit
//   never-overlap         faults of params.kinds were never active together
//   no-acked-message-lost every message a stream workload saw acknowledged was consumed
//   lag-recovers-within   a stream's consumer lag is back under params.max_lag within `within`
//                         of each heal, and it consumed while the fault was active
//   backup-restored       the backup workload's restore is verified, skipped every corrupted
//                         backup, fell back to the newest good one, RPO within `within`
// A checker says pass, fail, or unknown (the journal lacks what it needs), with a reason.
//
// Thread safety: pure functions of the events.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "chaos/engine/scenario.h"
#include "harness/core/journal.h"

namespace faultline::chaos {

struct CheckResult {
  std::string check;
  enum class Status { pass, fail, unknown } status = Status::pass;
  std::string detail;
};
std::string_view to_string(CheckResult::Status status);
// Simulated nanoseconds as checkers report them: "12.5s".
std::string seconds_text(std::int64_t ns);

struct CheckerKind {
  std::string name;
  std::vector<std::string> needs;  // of: workload, target, alert, within
  std::vector<std::string> params;
  std::function<CheckResult(const InvariantSpec&, const std::vector<Event>&)> check;
};

const CheckerKind* find_checker_kind(const std::string& name);
std::vector<std::string> checker_kind_names();

std::vector<CheckResult> run_checkers(const std::vector<InvariantSpec>& invariants,
                                      const std::vector<Event>& events);

}  // namespace faultline::chaos
