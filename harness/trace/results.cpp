#include "harness/trace/results.h"

#include <algorithm>
#include <set>
#include <sstream>

#include <pugixml.hpp>

#include "harness/core/error.h"

namespace faultline::trace {
namespace {

// Attributes GoogleTest writes on <testcase> itself; any other attribute is a recorded property
// (older GoogleTest versions wrote properties as attributes).
const std::set<std::string> kCaseAttributes = {"name",        "status",    "result", "time",
                                               "timestamp",   "file",      "line",   "classname",
                                               "value_param", "type_param"};

// "UT-INFRA-01.1 ET-INFRA-01.2", also accepting commas and semicolons between ids.
std::vector<std::string> split_ids(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == ',' || c == ';'; }, ' ');
  std::vector<std::string> ids;
  std::istringstream in(text);
  for (std::string id; in >> id;) ids.push_back(id);
  return ids;
}

std::string first_message(const pugi::xml_node& node) {
  std::string msg = node.attribute("message").as_string();
  std::string body = node.text().as_string();
  if (msg.empty()) return body;
  return msg;
}

void read_gtest_case(const pugi::xml_node& tc, const std::string& suite, const std::string& program,
                     const std::string& mode, const std::string& file, const std::string& run_seed,
                     RunResults& out) {
  CaseResult c;
  // The test program's run seed (recorded by faultline's test main on <testsuites>).
  if (!run_seed.empty()) c.properties["run_seed"] = run_seed;
  c.name = suite + "." + tc.attribute("name").as_string();
  c.program = program;
  c.mode = mode;
  c.file = file;
  c.seconds = tc.attribute("time").as_double();
  for (const auto& attr : tc.attributes()) {
    if (!kCaseAttributes.count(attr.name())) c.properties[attr.name()] = attr.value();
  }
  for (const auto& p : tc.child("properties").children("property")) {
    c.properties[p.attribute("name").as_string()] = p.attribute("value").as_string();
  }
  if (auto it = c.properties.find("covers"); it != c.properties.end()) {
    c.covers = split_ids(it->second);
  }
  const std::string status = tc.attribute("status").as_string();
  const std::string result = tc.attribute("result").as_string();
  if (auto failure = tc.child("failure")) {
    c.outcome = Outcome::failed;
    std::string all;
    for (auto f = failure; f; f = f.next_sibling("failure")) {
      if (!all.empty()) all += "\n";
      all += first_message(f);
    }
    c.message = all;
  } else if (auto error = tc.child("error")) {
    c.outcome = Outcome::failed;
    c.message = first_message(error);
  } else if (auto skipped = tc.child("skipped"); skipped || result == "skipped") {
    c.outcome = Outcome::skipped;
    c.message = skipped ? first_message(skipped) : "skipped";
  } else if (status == "notrun") {
    c.outcome = Outcome::skipped;
    c.message = "disabled";
  } else if (result == "suppressed") {
    c.outcome = Outcome::skipped;
    c.message = "suppressed";
  }
  out.cases.push_back(std::move(c));
}

void read_ctest_case(const pugi::xml_node& tc, const std::string& mode, RunResults& out) {
  ProgramResult p;
  p.name = tc.attribute("name").as_string();
  p.mode = mode;
  p.seconds = tc.attribute("time").as_double();
  const std::string status = tc.attribute("status").as_string();
  if (auto failure = tc.child("failure")) {
    p.outcome = Outcome::failed;
    p.message = first_message(failure);
  } else if (auto skipped = tc.child("skipped");
             skipped || status == "notrun" || status == "disabled") {
    p.outcome = Outcome::skipped;
    p.message = skipped ? first_message(skipped) : status;
  } else if (status == "fail") {
    p.outcome = Outcome::failed;
    p.message = "failed";
  }
  out.programs.push_back(std::move(p));
}

void read_file(const std::filesystem::path& path, const std::string& mode, RunResults& out) {
  pugi::xml_document doc;
  const auto parsed = doc.load_file(path.c_str());
  if (!parsed) {
    throw InputError({path.string()}, std::string("not readable XML: ") + parsed.description() +
                                          " at byte " + std::to_string(parsed.offset));
  }
  const auto root = doc.document_element();
  const std::string root_name = root.name();
  const std::string program = path.stem().string();
  if (root_name == "testsuites") {
    // GoogleTest XML: testsuites/testsuite/testcase.
    const std::string run_seed = root.attribute("seed").as_string();
    for (const auto& suite : root.children("testsuite")) {
      const std::string suite_name = suite.attribute("name").as_string();
      for (const auto& tc : suite.children("testcase")) {
        read_gtest_case(tc, suite_name, program, mode, path.string(), run_seed, out);
      }
    }
  } else if (root_name == "testsuite") {
    // ctest --output-junit: one testsuite, one testcase per test program.
    for (const auto& tc : root.children("testcase")) read_ctest_case(tc, mode, out);
  } else {
    throw InputError({path.string()},
                     "not GoogleTest XML or JUnit XML (root element <" + root_name + ">)");
  }
}

}  // namespace

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::passed:
      return "passed";
    case Outcome::failed:
      return "failed";
    case Outcome::skipped:
      return "skipped";
  }
  return "unknown";
}

std::string CaseResult::property(const std::string& key) const {
  auto it = properties.find(key);
  return it == properties.end() ? std::string() : it->second;
}

RunResults read_results(const std::filesystem::path& location, const std::string& mode) {
  RunResults out;
  out.mode = mode;
  out.location = location;
  std::error_code ec;
  if (std::filesystem::is_regular_file(location, ec)) {
    read_file(location, mode, out);
    return out;
  }
  if (!std::filesystem::is_directory(location, ec)) {
    throw InputError({location.string()}, "no such results file or directory");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(location)) {
    if (entry.is_regular_file() && entry.path().extension() == ".xml") files.push_back(entry);
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) read_file(f, mode, out);
  return out;
}

std::pair<std::filesystem::path, std::string> parse_results_arg(const std::string& arg) {
  std::filesystem::path dir = arg;
  std::string mode;
  if (auto eq = arg.rfind('='); eq != std::string::npos) {
    dir = arg.substr(0, eq);
    mode = arg.substr(eq + 1);
    if (mode.empty()) throw UsageError("--results " + arg + ": empty mode after '='");
  }
  if (dir.empty()) throw UsageError("--results " + arg + ": empty path");
  if (mode.empty()) {
    auto name = dir.filename().empty() ? dir.parent_path().filename() : dir.filename();
    mode = name.stem().string();
  }
  return {dir, mode};
}

}  // namespace faultline::trace
