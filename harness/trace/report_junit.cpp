// The merged JUnit XML of a report (junit.xml), for the CI system to show.
//
// <testsuites> holds one <testsuite name="<mode>/<program>"> per mode and test program, with
// tests/failures/skipped/time counts; each case is a <testcase name="Test"
// classname="<mode>.<Suite>"> with its <properties> (everything the test recorded, plus `mode`)
// and a <failure> or <skipped>. A program that failed without a failed case (a crash, a timeout)
// becomes a failing testcase of its own. Text is redacted, and characters XML 1.0 forbids
// (control characters, invalid UTF-8) are replaced with U+FFFD so strict parsers accept the file.
#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "harness/core/redact.h"
#include "harness/trace/report.h"

namespace faultline::trace {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Redacted text that is valid in an XML 1.0 document.
std::string xml_text(std::string_view raw) {
  const std::string text = redact(raw);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t len = lead < 0x80           ? 1
                            : (lead >> 5) == 0x06 ? 2
                            : (lead >> 4) == 0x0E ? 3
                            : (lead >> 3) == 0x1E ? 4
                                                  : 0;
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len == 1 && lead < 0x20 && lead != '\t' && lead != '\n' && lead != '\r') ok = false;
    if (!ok) {
      out += kReplacement;
      ++i;
      continue;
    }
    out.append(text, i, len);
    i += len;
  }
  return out;
}

// The first line of a message; GoogleTest's starts with "file:line", so that joins the next one.
std::string headline(const std::string& text) {
  std::istringstream in(text);
  std::string first, line;
  while (first.empty() && std::getline(in, first)) std::erase(first, '\r');
  const auto colon = first.rfind(':');
  const bool location = colon != std::string::npos && colon + 1 < first.size() &&
                        first.find_first_not_of("0123456789", colon + 1) == std::string::npos;
  while (location && line.empty() && std::getline(in, line)) std::erase(line, '\r');
  return line.empty() ? first : first + ": " + line;
}

std::string seconds(double s) {
  return fmt::format("{:.3f}", s);
}

void set(pugi::xml_node node, const char* name, const std::string& value) {
  node.append_attribute(name).set_value(value.c_str());
}

void add_property(pugi::xml_node properties, const std::string& name, const std::string& value) {
  auto p = properties.append_child("property");
  set(p, "name", xml_text(name));
  set(p, "value", xml_text(value));
}

// One <testsuite>: the cases of a program in a mode, and that program's failure without detail.
struct Suite {
  std::string mode, program;
  std::vector<const CaseResult*> cases;
  std::vector<const ProgramResult*> crashed;
};

using SuiteKey = std::tuple<std::size_t, std::string, std::string>;  // mode order, mode, program

SuiteKey key_of(const Report& r, const std::string& mode, const std::string& program) {
  const auto pos = std::find(r.modes.begin(), r.modes.end(), mode) - r.modes.begin();
  return {static_cast<std::size_t>(pos), mode, program};
}

struct Counts {
  std::size_t tests = 0, failures = 0, skipped = 0;
  double time = 0;
};

void set_counts(pugi::xml_node node, const Counts& c) {
  set(node, "tests", std::to_string(c.tests));
  set(node, "failures", std::to_string(c.failures));
  set(node, "errors", "0");
  set(node, "skipped", std::to_string(c.skipped));
  set(node, "time", seconds(c.time));
}

void write_case(pugi::xml_node suite, const CaseResult& c, Counts& counts) {
  // "Suite.Test" -> classname "<mode>.Suite", name "Test" (GoogleTest suites contain no '.').
  const auto dot = c.name.find('.');
  const std::string suite_name = dot == std::string::npos ? c.program : c.name.substr(0, dot);
  const std::string test_name = dot == std::string::npos ? c.name : c.name.substr(dot + 1);
  auto tc = suite.append_child("testcase");
  set(tc, "name", xml_text(test_name));
  set(tc, "classname", xml_text(c.mode + "." + suite_name));
  set(tc, "time", seconds(c.seconds));
  auto props = tc.append_child("properties");
  for (const auto& [name, value] : c.properties) {
    if (name != "mode") add_property(props, name, value);
  }
  if (!c.covers.empty() && !c.properties.count("covers")) {
    std::string joined;
    for (const auto& id : c.covers) joined += (joined.empty() ? "" : " ") + id;
    add_property(props, "covers", joined);
  }
  add_property(props, "mode", c.mode);

  ++counts.tests;
  counts.time += c.seconds;
  const std::string text = xml_text(c.message);
  if (c.outcome == Outcome::failed) {
    ++counts.failures;
    std::string body = text.empty() ? "failed" : text;
    // CI systems show the failure text, rarely the properties: repeat how to reproduce it.
    std::string extra;
    for (const char* key : {"seed", "reproduce", "rc_seed", "rc_reproduce"}) {
      if (auto it = c.properties.find(key); it != c.properties.end() && !it->second.empty()) {
        extra += fmt::format("\n{}: {}", key, xml_text(it->second));
      }
    }
    if (!extra.empty()) body += "\n" + extra;
    auto failure = tc.append_child("failure");
    set(failure, "message", text.empty() ? "failed" : headline(text));
    failure.text().set(body.c_str());
  } else if (c.outcome == Outcome::skipped) {
    ++counts.skipped;
    set(tc.append_child("skipped"), "message", text);
  }
}

void write_crashed(pugi::xml_node suite, const ProgramResult& p, Counts& counts) {
  auto tc = suite.append_child("testcase");
  set(tc, "name", xml_text(p.name));
  set(tc, "classname", xml_text(p.mode + "." + p.name));
  set(tc, "time", seconds(p.seconds));
  add_property(tc.append_child("properties"), "mode", p.mode);
  const std::string text = xml_text(p.message);
  const std::string message =
      "test program failed without reporting a failed case (a crash or a timeout?)" +
      (text.empty() ? std::string() : ": " + headline(text));
  auto failure = tc.append_child("failure");
  set(failure, "message", message);
  failure.text().set((text.empty() ? message : text).c_str());
  ++counts.tests;
  ++counts.failures;
  counts.time += p.seconds;
}

}  // namespace

std::string to_junit(const Report& report) {
  std::map<SuiteKey, Suite> suites;
  for (const auto& run : report.runs) {
    for (const auto& c : run.cases) {
      Suite& s = suites[key_of(report, c.mode, c.program)];
      s.mode = c.mode, s.program = c.program;
      s.cases.push_back(&c);
    }
  }
  for (const auto* p : report.failed_programs) {
    Suite& s = suites[key_of(report, p->mode, p->name)];
    s.mode = p->mode, s.program = p->name;
    s.crashed.push_back(p);
  }

  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  set(decl, "version", "1.0");
  set(decl, "encoding", "UTF-8");
  auto root = doc.append_child("testsuites");
  set(root, "name", xml_text(report.matrix ? report.matrix->name : std::string("faultline")));
  Counts total;
  for (const auto& [key, s] : suites) {
    auto node = root.append_child("testsuite");
    set(node, "name", xml_text(s.mode + "/" + s.program));
    if (!report.generated_at.empty()) set(node, "timestamp", xml_text(report.generated_at));
    Counts counts;
    for (const auto* c : s.cases) write_case(node, *c, counts);
    for (const auto* p : s.crashed) write_crashed(node, *p, counts);
    set_counts(node, counts);
    total.tests += counts.tests, total.failures += counts.failures;
    total.skipped += counts.skipped, total.time += counts.time;
  }
  set_counts(root, total);
  if (!report.generated_at.empty()) set(root, "timestamp", xml_text(report.generated_at));

  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace faultline::trace
