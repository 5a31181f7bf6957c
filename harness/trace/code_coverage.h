// CodeCoverage: gcovr's line coverage of faultline's own code, joined with the matrix so the
// traceability report can show, next to each requirement's coverage mapping (the classes and
// functions the seed names), how much of the code that implements it the tests ran.
//
// Input is gcovr's JSON summary (`gcovr --json-summary`, written by ci/coverage.sh): a list of
// files with line_covered and line_total. A requirement's code is the files under the path
// prefixes its `code:` list names in the matrix. The gate holds when the total over every file in
// the summary (ci/coverage.sh filters it to harness/, chaos/ and fakes/) and each requirement's
// code reach it — seed 000 asks more than 80% of the core modules, not only of the whole.
//
// Thread safety: an immutable value once read.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness/trace/matrix.h"

namespace faultline::trace {

struct LineCounts {
  std::size_t covered = 0;
  std::size_t total = 0;
  double percent() const;  // 0 when there are no lines
};

struct CodeCoverage {
  std::filesystem::path file;  // the gcovr JSON summary it was read from
  LineCounts total;
  double gate_percent = 0;  // the required minimum of the total and of each requirement's code
  bool meets_gate() const;
  // Requirements whose code (one line or more) is under the gate, in id order.
  std::vector<std::string> under_gate() const;
  // requirement id -> lines of the files under its `code` prefixes (absent: it names none)
  std::map<std::string, LineCounts> by_requirement;
  // requirement id -> the prefixes that matched no file of the summary (a stale mapping)
  std::map<std::string, std::vector<std::string>> unmatched;
};

// Reads a gcovr JSON summary. Throws InputError naming the file for one that is not a gcovr
// summary (not JSON, no "files" list, counts that are not non-negative integers).
// "81.3% of 2140 lines under harness/clients/postgres/, harness/ops/backup/", or "" when the
// requirement names no code; a prefix that matched no file is said ("... ; no file under x/").
std::string describe(const CodeCoverage& coverage, const Requirement& requirement);
// "line coverage 82.4% of 41230 lines, each requirement's code at least 81.0% (gate 80%: met)";
// when not met, what is under the gate ("NOT met: REQ-INFRA-04 72.1%").
std::string describe_total(const CodeCoverage& coverage);

CodeCoverage read_code_coverage(const std::filesystem::path& summary, const Matrix& matrix,
                                double gate_percent);

}  // namespace faultline::trace
