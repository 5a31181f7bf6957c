// Outputs of a run, written into its output directory beside journal.jsonl:
//   result.json      the RunResult (verdict, reasons, checks, schedule, digest, reproduce)
//   junit.xml        one test case named after the scenario, with covers/seed/reproduce
//                    properties (the traceability report reads them as it reads GoogleTest XML)
//   timeline.html    self-contained, inline SVG (timeline.h)
//   metrics.prom     Prometheus textfile: faultline_scenario_passed{scenario,backend}, duration,
//                    faults injected, invariant failures
//   reproduce.txt    the one-line command
//
// Thread safety: pure functions over their arguments (they write the files named).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "chaos/engine/runner.h"
#include "harness/core/journal.h"

namespace faultline::chaos {

void write_outputs(const RunResult& result, const std::vector<Event>& events,
                   const std::filesystem::path& dir);

// The Prometheus text lines of several results (one metrics.prom for a whole --all run).
std::string prometheus_text(const std::vector<RunResult>& results);
// One JUnit document with a test case per result.
std::string junit_text(const std::vector<RunResult>& results);

// The self-contained HTML timeline of a run.
std::string render_timeline(const RunResult& result, const std::vector<Event>& events);

}  // namespace faultline::chaos
