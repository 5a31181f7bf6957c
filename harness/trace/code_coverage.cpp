#include "harness/trace/code_coverage.h"

#include <algorithm>

#include <fstream>

#include <fmt/format.h>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness/core/error.h"

namespace faultline::trace {
namespace {

std::size_t count(const nlohmann::json& file, const char* field, const std::string& where,
                  const std::filesystem::path& summary) {
  const auto it = file.find(field);
  if (it == file.end() || !it->is_number_unsigned()) {
    throw InputError(SourceLocation{summary.string(), 0, 0},
                     where + ": '" + field + "' must be a non-negative integer");
  }
  return it->get<std::size_t>();
}

bool under(const std::string& file, const std::string& prefix) {
  if (file.compare(0, prefix.size(), prefix) != 0) return false;
  return file.size() == prefix.size() || prefix.back() == '/' || file[prefix.size()] == '/' ||
         file[prefix.size()] == '.';
}

}  // namespace

double LineCounts::percent() const {
  return total == 0 ? 0.0 : 100.0 * static_cast<double>(covered) / static_cast<double>(total);
}

std::string describe(const CodeCoverage& coverage, const Requirement& requirement) {
  const auto it = coverage.by_requirement.find(requirement.id);
  if (it == coverage.by_requirement.end()) return "";
  std::string out = fmt::format("{:.1f}% of {} lines under {}", it->second.percent(),
                                it->second.total, fmt::join(requirement.code, ", "));
  if (const auto u = coverage.unmatched.find(requirement.id); u != coverage.unmatched.end()) {
    out += fmt::format("; no file under {}", fmt::join(u->second, ", "));
  }
  return out;
}

namespace {
bool reaches(const LineCounts& lines, double gate) {
  return lines.percent() + 1e-9 >= gate;
}
}  // namespace

std::vector<std::string> CodeCoverage::under_gate() const {
  std::vector<std::string> out;
  for (const auto& [id, lines] : by_requirement) {
    if (lines.total > 0 && !reaches(lines, gate_percent)) out.push_back(id);
  }
  return out;
}

bool CodeCoverage::meets_gate() const {
  return reaches(total, gate_percent) && under_gate().empty();
}

std::string describe_total(const CodeCoverage& coverage) {
  std::string out = fmt::format("line coverage {:.1f}% of {} lines", coverage.total.percent(),
                                coverage.total.total);
  double lowest = 101;
  for (const auto& [id, lines] : coverage.by_requirement) {
    if (lines.total > 0) lowest = std::min(lowest, lines.percent());
  }
  if (lowest <= 100) out += fmt::format(", each requirement's code at least {:.1f}%", lowest);
  if (coverage.meets_gate()) return out + fmt::format(" (gate {:g}%: met)", coverage.gate_percent);
  std::vector<std::string> under;
  if (!reaches(coverage.total, coverage.gate_percent)) {
    under.push_back(fmt::format("the total {:.1f}%", coverage.total.percent()));
  }
  for (const auto& id : coverage.under_gate()) {
    under.push_back(fmt::format("{} {:.1f}%", id, coverage.by_requirement.at(id).percent()));
  }
  return out +
         fmt::format(" (gate {:g}%: NOT met: {})", coverage.gate_percent, fmt::join(under, ", "));
}

CodeCoverage read_code_coverage(const std::filesystem::path& summary, const Matrix& matrix,
                                double gate_percent) {
  std::ifstream in(summary, std::ios::binary);
  if (!in) {
    throw InputError(SourceLocation{summary.string(), 0, 0}, "cannot read the coverage summary");
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw InputError(SourceLocation{summary.string(), 0, 0},
                     "not a gcovr JSON summary (not a JSON object)");
  }
  const auto files = j.find("files");
  if (files == j.end() || !files->is_array()) {
    throw InputError(SourceLocation{summary.string(), 0, 0},
                     "not a gcovr JSON summary (no 'files' list)");
  }
  CodeCoverage c;
  c.file = summary;
  c.gate_percent = gate_percent;
  std::vector<std::pair<std::string, LineCounts>> per_file;
  std::size_t index = 0;
  for (const auto& f : *files) {
    const std::string where = "files[" + std::to_string(index++) + "]";
    if (!f.is_object() || !f.contains("filename") || !f["filename"].is_string()) {
      throw InputError(SourceLocation{summary.string(), 0, 0},
                       where + ": expected an object with a 'filename'");
    }
    LineCounts lines{count(f, "line_covered", where, summary),
                     count(f, "line_total", where, summary)};
    if (lines.covered > lines.total) {
      throw InputError(SourceLocation{summary.string(), 0, 0},
                       where + ": line_covered exceeds line_total");
    }
    c.total.covered += lines.covered;
    c.total.total += lines.total;
    per_file.emplace_back(f["filename"].get<std::string>(), lines);
  }
  for (const auto& req : matrix.requirements) {
    if (req.code.empty()) continue;
    LineCounts& sum = c.by_requirement[req.id];
    std::vector<bool> matched(req.code.size(), false);
    for (const auto& [name, lines] : per_file) {
      bool counted = false;  // a file under two prefixes counts once
      for (std::size_t i = 0; i < req.code.size(); ++i) {
        if (!under(name, req.code[i])) continue;
        matched[i] = true;
        if (counted) continue;
        counted = true;
        sum.covered += lines.covered;
        sum.total += lines.total;
      }
    }
    for (std::size_t i = 0; i < req.code.size(); ++i) {
      if (!matched[i]) c.unmatched[req.id].push_back(req.code[i]);
    }
  }
  return c;
}

}  // namespace faultline::trace
