#include "chaos/engine/outputs.h"

#include <fstream>
#include <sstream>

#include "harness/core/text.h"

namespace faultline::chaos {
namespace {

std::string label_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
  if (!out) throw Error("cannot write " + p.string());
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

std::string prometheus_text(const std::vector<RunResult>& results) {
  std::ostringstream out;
  auto family = [&](const char* name, const char* help, auto value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n";
    for (const auto& r : results)
      out << name << "{scenario=\"" << label_escape(r.scenario) << "\",backend=\""
          << label_escape(r.backend) << "\"} " << value(r) << "\n";
  };
  family("faultline_scenario_passed", "1 if the chaos scenario passed, 0 if not",
         [](const RunResult& r) { return r.verdict == "pass" ? 1 : 0; });
  family("faultline_scenario_duration_seconds", "Wall-clock duration of the scenario run",
         [](const RunResult& r) { return r.wall_seconds; });
  family("faultline_scenario_simulated_seconds", "Scenario time covered (simulated in fake mode)",
         [](const RunResult& r) { return r.simulated_seconds; });
  family("faultline_scenario_faults_injected", "Faults injected by the run",
         [](const RunResult& r) { return r.faults_injected; });
  family("faultline_scenario_invariant_failures", "Invariants that failed",
         [](const RunResult& r) { return r.invariant_failures; });
  return out.str();
}

std::string junit_text(const std::vector<RunResult>& results) {
  int failures = 0, skipped = 0;
  for (const auto& r : results) {
    failures += r.verdict == "fail";
    skipped += r.verdict == "unknown";
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"" << results.size()
      << "\" failures=\"" << failures << "\">\n  <testsuite name=\"chaos\" tests=\""
      << results.size() << "\" failures=\"" << failures << "\" skipped=\"" << skipped << "\">\n";
  for (const auto& r : results) {
    out << "    <testcase classname=\"chaos." << markup_escape(r.backend) << "\" name=\""
        << markup_escape(r.scenario) << "\" time=\"" << r.wall_seconds
        << "\">\n      <properties>\n"
        << "        <property name=\"covers\" value=\"" << markup_escape(joined(r.covers, " "))
        << "\"/>\n"
        << "        <property name=\"seed\" value=\"" << r.seed << "\"/>\n"
        << "        <property name=\"reproduce\" value=\"" << markup_escape(r.reproduce) << "\"/>\n"
        << "        <property name=\"mode\" value=\"" << markup_escape(r.backend) << "\"/>\n"
        << "        <property name=\"digest\" value=\"" << r.digest
        << "\"/>\n      </properties>\n";
    const std::string why = markup_escape(joined(r.reasons, "; "));
    if (r.verdict == "fail")
      out << "      <failure message=\"" << why << "\">" << markup_escape(r.reproduce)
          << "</failure>\n";
    else if (r.verdict == "unknown")
      out << "      <skipped message=\"verdict unknown: " << why << "\"/>\n";
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

void write_outputs(const RunResult& r, const std::vector<Event>& events,
                   const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  write_file(dir / "result.json", r.to_json().dump(2) + "\n");
  write_file(dir / "junit.xml", junit_text({r}));
  write_file(dir / "metrics.prom", prometheus_text({r}));
  write_file(dir / "reproduce.txt", r.reproduce + "\n");
  write_file(dir / "timeline.html", render_timeline(r, events));
}

}  // namespace faultline::chaos
