// The traceability report: the matrix joined with the results of one or more runs.
//
// For every test id: a status per mode (passed, failed, skipped with its reason, or uncovered) and
// overall, with the covering tests, their seeds and reproduce commands. For every requirement:
// covered (every id has a passing test), partial (some do not), failing (a covering test failed),
// uncovered (no id has any test). Orphans are tests naming ids the matrix lacks; untagged tests
// cover nothing; failed programs are test programs that failed without reporting cases.
// Writers: JSON, Markdown (fits a pull request), self-contained HTML, and a merged JUnit XML.
//
// Thread safety: a Report is an immutable value; writers only read it.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "harness/trace/code_coverage.h"
#include "harness/trace/matrix.h"
#include "harness/trace/results.h"

namespace faultline::trace {

enum class IdStatus { passed, failed, skipped, uncovered };
enum class RequirementStatus { covered, partial, failing, uncovered };
std::string_view to_string(IdStatus status);
std::string_view to_string(RequirementStatus status);

struct IdReport {
  const MatrixTest* test = nullptr;
  IdStatus status = IdStatus::uncovered;
  std::map<std::string, IdStatus> by_mode;  // every mode of the report has an entry
  std::vector<const CaseResult*> covering;  // in mode order, then name
  std::string reason;                       // why skipped (first skip message) or failed
};

struct RequirementReport {
  const Requirement* requirement = nullptr;
  RequirementStatus status = RequirementStatus::uncovered;
  std::vector<IdReport> ids;
};

struct Orphan {
  std::string id;
  const CaseResult* result = nullptr;
};

struct Totals {
  std::size_t ids = 0, ids_passed = 0, ids_failed = 0, ids_skipped = 0, ids_uncovered = 0;
  std::size_t requirements = 0, covered = 0, partial = 0, failing = 0, uncovered = 0;
  std::size_t cases = 0, cases_passed = 0, cases_failed = 0, cases_skipped = 0;
};

struct Report {
  Report() = default;
  Report(Report&&) = default;
  Report& operator=(Report&&) = default;
  Report(const Report&) = delete;  // the pointers inside point into `runs`
  Report& operator=(const Report&) = delete;

  const Matrix* matrix = nullptr;
  std::vector<std::string> modes;  // in the order the runs were given
  std::vector<RunResults> runs;    // owned here; CaseResult pointers point into these
  std::vector<RequirementReport> requirements;
  std::vector<Orphan> orphans;
  std::vector<const CaseResult*> untagged;
  std::vector<const ProgramResult*> failed_programs;  // failed, with no failed case to explain it
  Totals totals;
  std::string generated_at;  // ISO-8601 UTC, given by the caller (the Clock's wall time)
  // Line coverage of the code (gcovr), when the run measured it: shown per requirement.
  std::optional<CodeCoverage> code_coverage;
};

Report build_report(const Matrix& matrix, std::vector<RunResults> runs, std::string generated_at);

// 0 if the gate passes; 1 if any requirement is failing, a program failed without detail, or line
// coverage is under its gate; with `strict` also if any requirement is partial or uncovered.
int gate(const Report& report, bool strict);

nlohmann::json to_json(const Report& report);
std::string to_markdown(const Report& report);
std::string to_html(const Report& report);
std::string to_junit(const Report& report);

// Writes traceability.json, traceability.md, traceability.html and junit.xml into `dir`
// (created if missing), each atomically (written aside, then renamed).
void write_report(const Report& report, const std::filesystem::path& dir);

}  // namespace faultline::trace
