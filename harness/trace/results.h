// Reading test results: GoogleTest XML and ctest's --output-junit.
//
// GoogleTest XML gives one record per test case, with the properties faultline tests record
// (`covers`, `seed`, `reproduce`, `rc_seed`, `rc_reproduce`) and the failure or skip message.
// ctest's JUnit gives one record per test program; the report uses those to notice a program that
// failed without leaving GoogleTest XML (a crash, a timeout), which would otherwise hide as
// "uncovered". A results location is a directory (searched recursively for *.xml) or one file.
//
// Thread safety: plain values; the reader has no state.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace faultline::trace {

enum class Outcome { passed, failed, skipped };
std::string_view to_string(Outcome outcome);

struct CaseResult {
  std::string name;     // "Suite.Test"
  std::string program;  // the test program (GoogleTest XML file stem)
  std::string mode;     // the run it came from: fake, local, staging, unit...
  Outcome outcome = Outcome::passed;
  std::string message;  // failure text or skip reason
  double seconds = 0;
  std::vector<std::string> covers;
  std::map<std::string, std::string> properties;  // all recorded properties, covers included
  std::string file;                               // the XML it was read from

  std::string property(const std::string& key) const;
};

struct ProgramResult {
  std::string name;  // ctest test name (= program name for faultline tests)
  std::string mode;
  Outcome outcome = Outcome::passed;
  std::string message;
  double seconds = 0;
};

struct RunResults {
  std::string mode;
  std::filesystem::path location;
  std::vector<CaseResult> cases;
  std::vector<ProgramResult> programs;
};

// Reads every result file at `location`. Throws InputError (file name) on unreadable or
// malformed XML.
RunResults read_results(const std::filesystem::path& location, const std::string& mode);
// Splits a "--results DIR[=MODE]" argument; the mode defaults to the directory's name.
std::pair<std::filesystem::path, std::string> parse_results_arg(const std::string& arg);

}  // namespace faultline::trace
