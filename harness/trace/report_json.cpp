// traceability.json: the report as data, for dashboards and for diffing two runs.
#include <nlohmann/json.hpp>

#include "harness/core/redact.h"
#include "harness/trace/report.h"

namespace faultline::trace {
namespace {

nlohmann::json case_json(const CaseResult& c) {
  nlohmann::json j = {{"name", c.name},
                      {"program", c.program},
                      {"mode", c.mode},
                      {"outcome", to_string(c.outcome)},
                      {"seconds", c.seconds}};
  if (!c.message.empty()) j["message"] = c.message;
  for (const char* key : {"seed", "run_seed", "reproduce", "rc_seed", "rc_reproduce"}) {
    if (auto v = c.property(key); !v.empty()) j[key] = v;
  }
  if (!c.covers.empty()) j["covers"] = c.covers;
  return j;
}

}  // namespace

nlohmann::json to_json(const Report& report) {
  const auto& t = report.totals;
  nlohmann::json j;
  j["matrix"] = report.matrix->name;
  j["matrix_file"] = report.matrix->file.string();
  j["seed_document"] = report.matrix->seed;
  j["generated_at"] = report.generated_at;
  j["modes"] = report.modes;
  j["totals"] = {{"requirements",
                  {{"total", t.requirements},
                   {"covered", t.covered},
                   {"partial", t.partial},
                   {"failing", t.failing},
                   {"uncovered", t.uncovered}}},
                 {"ids",
                  {{"total", t.ids},
                   {"passed", t.ids_passed},
                   {"failed", t.ids_failed},
                   {"skipped", t.ids_skipped},
                   {"uncovered", t.ids_uncovered}}},
                 {"cases",
                  {{"total", t.cases},
                   {"passed", t.cases_passed},
                   {"failed", t.cases_failed},
                   {"skipped", t.cases_skipped}}}};
  if (const auto& c = report.code_coverage) {
    j["code_coverage"] = {{"summary", c->file.string()},       {"line_percent", c->total.percent()},
                          {"lines_covered", c->total.covered}, {"lines_total", c->total.total},
                          {"gate_percent", c->gate_percent},   {"meets_gate", c->meets_gate()}};
  }
  j["runs"] = nlohmann::json::array();
  for (const auto& run : report.runs) {
    j["runs"].push_back({{"mode", run.mode},
                         {"location", run.location.string()},
                         {"cases", run.cases.size()},
                         {"programs", run.programs.size()}});
  }
  j["requirements"] = nlohmann::json::array();
  for (const auto& rr : report.requirements) {
    const auto& r = *rr.requirement;
    nlohmann::json req = {{"id", r.id}, {"title", r.title}, {"status", to_string(rr.status)}};
    if (r.derived()) {
      req["derived_from"] = r.derived_from;
    } else {
      req["source"] = r.source;
    }
    req["coverage"] = r.coverage;
    if (report.code_coverage) {
      if (const auto it = report.code_coverage->by_requirement.find(r.id);
          it != report.code_coverage->by_requirement.end()) {
        req["code_coverage"] = {{"code", r.code},
                                {"line_percent", it->second.percent()},
                                {"lines_covered", it->second.covered},
                                {"lines_total", it->second.total}};
      }
    }
    req["tests"] = nlohmann::json::array();
    for (const auto& ir : rr.ids) {
      nlohmann::json id = {{"id", ir.test->id},
                           {"kind", to_string(ir.test->kind)},
                           {"text", ir.test->summary()},
                           {"status", to_string(ir.status)}};
      for (const auto& [mode, status] : ir.by_mode) id["modes"][mode] = to_string(status);
      if (!ir.reason.empty()) id["reason"] = ir.reason;
      id["covering"] = nlohmann::json::array();
      for (const auto* c : ir.covering) id["covering"].push_back(case_json(*c));
      req["tests"].push_back(std::move(id));
    }
    j["requirements"].push_back(std::move(req));
  }
  j["orphans"] = nlohmann::json::array();
  for (const auto& o : report.orphans) {
    j["orphans"].push_back({{"id", o.id}, {"test", case_json(*o.result)}});
  }
  j["untagged"] = nlohmann::json::array();
  for (const auto* c : report.untagged) {
    j["untagged"].push_back({{"name", c->name},
                             {"program", c->program},
                             {"mode", c->mode},
                             {"outcome", to_string(c->outcome)}});
  }
  j["failed_programs"] = nlohmann::json::array();
  for (const auto* p : report.failed_programs) {
    j["failed_programs"].push_back({{"name", p->name}, {"mode", p->mode}, {"message", p->message}});
  }
  Redactor::process().redact_json(j);
  return j;
}

}  // namespace faultline::trace
