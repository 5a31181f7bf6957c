#include "harness/trace/report.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "harness/core/error.h"

namespace faultline::trace {
namespace {

// Folds one more result into a status: failed beats passed beats skipped beats uncovered.
IdStatus fold(IdStatus current, Outcome outcome) {
  IdStatus next = outcome == Outcome::failed   ? IdStatus::failed
                  : outcome == Outcome::passed ? IdStatus::passed
                                               : IdStatus::skipped;
  auto rank = [](IdStatus s) {
    switch (s) {
      case IdStatus::failed:
        return 3;
      case IdStatus::passed:
        return 2;
      case IdStatus::skipped:
        return 1;
      case IdStatus::uncovered:
        return 0;
    }
    return 0;
  };
  return rank(next) > rank(current) ? next : current;
}

RequirementStatus requirement_status(const std::vector<IdReport>& ids) {
  bool any_failed = false, all_passed = true, any_result = false;
  for (const auto& id : ids) {
    any_failed |= id.status == IdStatus::failed;
    all_passed &= id.status == IdStatus::passed;
    any_result |= id.status != IdStatus::uncovered;
  }
  if (any_failed) return RequirementStatus::failing;
  if (all_passed) return RequirementStatus::covered;
  if (!any_result) return RequirementStatus::uncovered;
  return RequirementStatus::partial;
}

}  // namespace

std::string_view to_string(IdStatus status) {
  switch (status) {
    case IdStatus::passed:
      return "passed";
    case IdStatus::failed:
      return "failed";
    case IdStatus::skipped:
      return "skipped";
    case IdStatus::uncovered:
      return "uncovered";
  }
  return "unknown";
}

std::string_view to_string(RequirementStatus status) {
  switch (status) {
    case RequirementStatus::covered:
      return "covered";
    case RequirementStatus::partial:
      return "partial";
    case RequirementStatus::failing:
      return "failing";
    case RequirementStatus::uncovered:
      return "uncovered";
  }
  return "unknown";
}

Report build_report(const Matrix& matrix, std::vector<RunResults> runs, std::string generated_at) {
  Report report;
  report.matrix = &matrix;
  report.generated_at = std::move(generated_at);
  report.runs = std::move(runs);
  for (const auto& run : report.runs) {
    // A run of ctest's program-level JUnit alone has no cases and adds no mode column.
    if (run.cases.empty()) continue;
    if (std::find(report.modes.begin(), report.modes.end(), run.mode) == report.modes.end()) {
      report.modes.push_back(run.mode);
    }
  }

  // Index the cases by the ids they cover; collect orphans and untagged cases.
  std::map<std::string, std::vector<const CaseResult*>> by_id;
  // Programs with a failed case, by (mode, program) and by program alone: ctest's JUnit names
  // programs without knowing the mode directory their XML went to.
  std::set<std::pair<std::string, std::string>> failed_in_mode;
  std::set<std::string> programs_with_failed_cases;
  auto& t = report.totals;
  for (const auto& run : report.runs) {
    for (const auto& c : run.cases) {
      ++t.cases;
      t.cases_passed += c.outcome == Outcome::passed;
      t.cases_failed += c.outcome == Outcome::failed;
      t.cases_skipped += c.outcome == Outcome::skipped;
      if (c.outcome == Outcome::failed) {
        failed_in_mode.emplace(c.mode, c.program);
        programs_with_failed_cases.insert(c.program);
      }
      if (c.covers.empty()) report.untagged.push_back(&c);
      for (const auto& id : c.covers) {
        if (matrix.find_test(id)) {
          by_id[id].push_back(&c);
        } else {
          report.orphans.push_back({id, &c});
        }
      }
    }
  }
  // A program that failed (crashed, timed out) but whose XML shows no failed case.
  for (const auto& run : report.runs) {
    for (const auto& p : run.programs) {
      const bool mode_has_cases =
          std::find(report.modes.begin(), report.modes.end(), p.mode) != report.modes.end();
      const bool explained = mode_has_cases ? failed_in_mode.count({p.mode, p.name}) > 0
                                            : programs_with_failed_cases.count(p.name) > 0;
      if (p.outcome == Outcome::failed && !explained) {
        report.failed_programs.push_back(&p);
      }
    }
  }

  for (const auto& req : matrix.requirements) {
    RequirementReport rr;
    rr.requirement = &req;
    for (const auto& test : req.tests) {
      IdReport ir;
      ir.test = &test;
      for (const auto& mode : report.modes) ir.by_mode[mode] = IdStatus::uncovered;
      auto found = by_id.find(test.id);
      if (found != by_id.end()) {
        ir.covering = found->second;
        std::stable_sort(ir.covering.begin(), ir.covering.end(), [&](auto* a, auto* b) {
          auto pos = [&](const std::string& m) {
            return std::find(report.modes.begin(), report.modes.end(), m) - report.modes.begin();
          };
          return std::make_pair(pos(a->mode), a->name) < std::make_pair(pos(b->mode), b->name);
        });
        for (const auto* c : ir.covering) {
          ir.by_mode[c->mode] = fold(ir.by_mode[c->mode], c->outcome);
          ir.status = fold(ir.status, c->outcome);
        }
        // The reason shown is that of the first case with the id's own outcome.
        for (const auto* c : ir.covering) {
          if ((ir.status == IdStatus::failed && c->outcome == Outcome::failed) ||
              (ir.status == IdStatus::skipped && c->outcome == Outcome::skipped)) {
            ir.reason = c->message;
            break;
          }
        }
      }
      ++t.ids;
      t.ids_passed += ir.status == IdStatus::passed;
      t.ids_failed += ir.status == IdStatus::failed;
      t.ids_skipped += ir.status == IdStatus::skipped;
      t.ids_uncovered += ir.status == IdStatus::uncovered;
      rr.ids.push_back(std::move(ir));
    }
    rr.status = requirement_status(rr.ids);
    ++t.requirements;
    t.covered += rr.status == RequirementStatus::covered;
    t.partial += rr.status == RequirementStatus::partial;
    t.failing += rr.status == RequirementStatus::failing;
    t.uncovered += rr.status == RequirementStatus::uncovered;
    report.requirements.push_back(std::move(rr));
  }
  return report;
}

int gate(const Report& report, bool strict) {
  if (report.totals.failing > 0 || !report.failed_programs.empty()) return 1;
  if (report.code_coverage && !report.code_coverage->meets_gate()) return 1;
  if (strict && (report.totals.partial > 0 || report.totals.uncovered > 0)) return 1;
  return 0;
}

void write_report(const Report& report, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create report directory " + dir.string() + ": " + ec.message());
  auto write = [&](const std::string& name, const std::string& content) {
    const auto final_path = dir / name;
    const auto tmp = dir / ("." + name + ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << content;
      if (!out.flush()) throw Error("cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, final_path, ec);
    if (ec) throw Error("cannot write " + final_path.string() + ": " + ec.message());
  };
  write("traceability.json", to_json(report).dump(2) + "\n");
  write("traceability.md", to_markdown(report));
  write("traceability.html", to_html(report));
  write("junit.xml", to_junit(report));
}

}  // namespace faultline::trace
