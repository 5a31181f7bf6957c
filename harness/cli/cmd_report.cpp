// `faultline report`: joins the REQ-INFRA matrix with the results of one or more runs and writes
// the traceability report (JSON, Markdown, HTML, merged JUnit).
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "harness/cli/commands.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/trace/matrix.h"
#include "harness/trace/report.h"
#include "harness/trace/results.h"

namespace faultline {
namespace {

struct ReportOptions {
  std::string matrix;
  std::vector<std::string> results;
  std::string out;
  bool gate = false;
  bool strict = false;
  std::string coverage;  // gcovr JSON summary
  double coverage_gate = 80;
};

std::string iso_utc(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

void run_report(const ReportOptions& o) {
  if (o.strict && !o.gate) throw UsageError("report: --strict only makes sense with --gate");
  const trace::Matrix matrix = trace::load_matrix(o.matrix);
  std::vector<trace::RunResults> runs;
  for (const auto& arg : o.results) {
    auto [location, mode] = trace::parse_results_arg(arg);
    runs.push_back(trace::read_results(location, mode));
  }
  RealClock clock;
  trace::Report report = trace::build_report(matrix, std::move(runs), iso_utc(clock.wall_now()));
  if (!o.coverage.empty()) {
    report.code_coverage = trace::read_code_coverage(o.coverage, matrix, o.coverage_gate);
  }
  trace::write_report(report, o.out);
  const auto& t = report.totals;
  std::printf(
      "%s: %zu requirements (%zu covered, %zu partial, %zu failing, %zu uncovered); %zu ids "
      "(%zu passed, %zu failed, %zu skipped, %zu uncovered); %zu orphan(s), %zu untagged "
      "test(s)\n",
      matrix.name.c_str(), t.requirements, t.covered, t.partial, t.failing, t.uncovered, t.ids,
      t.ids_passed, t.ids_failed, t.ids_skipped, t.ids_uncovered, report.orphans.size(),
      report.untagged.size());
  if (report.code_coverage) {
    std::printf("code: %s\n", trace::describe_total(*report.code_coverage).c_str());
  }
  for (const auto* p : report.failed_programs) {
    std::printf("test program %s failed without reporting a failed case: %s\n", p->name.c_str(),
                p->message.c_str());
  }
  std::printf("report: %s/traceability.{md,html,json}, %s/junit.xml\n", o.out.c_str(),
              o.out.c_str());
  if (o.gate) {
    const int code = trace::gate(report, o.strict);
    if (code != 0) {
      const bool coverage_low = report.code_coverage && !report.code_coverage->meets_gate();
      std::printf("gate: FAILED (%s)\n", coverage_low ? "line coverage is under its gate"
                                         : o.strict   ? "strict: every requirement must be covered"
                                                      : "a requirement is failing");
    }
    cli::set_exit_code(code);
  }
}

void add_report_command(CLI::App& app) {
  auto opts = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report", "Write the traceability report of one or more runs");
  cmd->add_option("--matrix", opts->matrix, "the requirement matrix (fixtures/req-infra.yaml)")
      ->required();
  cmd->add_option("--results", opts->results,
                  "a directory (or file) of GoogleTest/ctest JUnit XML, optionally =MODE "
                  "(fake, local, staging...); repeatable")
      ->required();
  cmd->add_option("--out", opts->out, "where to write the report")->required();
  cmd->add_flag("--gate", opts->gate, "exit 1 if a requirement is failing");
  cmd->add_flag("--strict", opts->strict, "with --gate: also if one is partial or uncovered");
  cmd->add_option("--coverage", opts->coverage,
                  "gcovr JSON summary (ci/coverage.sh): line coverage per requirement's code");
  cmd->add_option("--coverage-gate", opts->coverage_gate,
                  "with --gate: minimum line coverage in percent (default 80)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->callback([opts] { run_report(*opts); });
}

}  // namespace

FAULTLINE_COMMAND(10, add_report_command);

}  // namespace faultline
