// The HTML traceability report (traceability.html): one self-contained page, inline CSS only.
//
// The same content as the Markdown report, in full: every requirement with its title, description
// and seed source, every test id with its summary, a status per mode, the covering tests with
// their seeds and reproduce commands, the failures with their messages, orphans, untagged tests and
// failed programs. No scripts, fonts, images or links leave the file. Every piece of text goes
// through redact() and is then HTML-escaped (& < > " ').
#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "harness/core/redact.h"
#include "harness/core/text.h"
#include "harness/trace/report.h"
#include "harness/trace/report_text.h"

namespace faultline::trace {
namespace {

constexpr std::size_t kReasonLines = 6;  // a reason in the id table; the full text is below
constexpr std::size_t kReasonChars = 600;
constexpr std::size_t kMessageLines = 80;
constexpr std::size_t kMessageChars = 8000;

constexpr std::string_view kStyle = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1400px;padding:1em 2em;color:#1f2328;background:#fff}
h1{margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
.meta,.src{color:#57606a}.cards{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.6em 1em;min-width:14em}
.card b{display:block;margin-bottom:.3em}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{border:1px solid #d0d7de;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
tr.st-failed td:first-child,tr.st-failing td:first-child{border-left:4px solid #cf222e}
tr.st-passed td:first-child,tr.st-covered td:first-child{border-left:4px solid #1a7f37}
tr.st-skipped td:first-child,tr.st-partial td:first-child{border-left:4px solid #bf8700}
tr.st-uncovered td:first-child{border-left:4px solid #8c959f}
.badge{display:inline-block;border-radius:1em;padding:0 .6em;font-size:12px;font-weight:600;
white-space:nowrap;color:#fff}
.passed,.covered{background:#1a7f37}.failed,.failing{background:#cf222e}
.skipped,.partial{background:#bf8700}.uncovered{background:#8c959f}
code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
code{background:#f6f8fa;border-radius:4px;padding:0 .3em}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.6em;
white-space:pre-wrap;word-break:break-word;margin:.3em 0}
ul.cov{margin:0;padding-left:1.1em}.summary{color:#57606a;font-size:13px}
.failure{border:1px solid #d0d7de;border-left:4px solid #cf222e;border-radius:6px;
padding:.5em 1em;margin:.8em 0}.mode{font-weight:600}
)css";

// Escapes already-redacted text for HTML content and attribute values.
std::string h(std::string_view text) {
  return markup_escape(redact(text));
}

// The redacted, clipped, escaped text of a message.
std::string message(std::string_view raw, std::size_t lines, std::size_t chars) {
  return markup_escape(clip(redact(raw), lines, chars, "\n…"));
}

// The same on one block of text, line breaks kept as <br>.
std::string inline_message(std::string_view raw, std::size_t lines, std::size_t chars) {
  std::string out;
  for (char c : message(raw, lines, chars))
    out += c == '\n' ? std::string("<br>") : std::string(1, c);
  return out;
}

std::string badge(std::string_view status, std::string_view label = {}) {
  return fmt::format("<span class=\"badge {}\">{}</span>", status,
                     h(label.empty() ? status : label));
}

std::string prop(const CaseResult& c, const std::string& key) {
  auto it = c.properties.find(key);
  return it == c.properties.end() ? std::string() : it->second;
}

std::size_t passed_ids(const RequirementReport& rr) {
  return static_cast<std::size_t>(std::count_if(
      rr.ids.begin(), rr.ids.end(), [](const auto& i) { return i.status == IdStatus::passed; }));
}

// Seed and reproduce lines of a case, as HTML.
std::string seeds(const CaseResult& c) {
  std::string out;
  for (const char* key : {"seed", "rc_seed"}) {
    if (auto v = prop(c, key); !v.empty()) out += fmt::format(" {} <code>{}</code>", key, h(v));
  }
  if (auto v = prop(c, "reproduce"); !v.empty()) {
    out += fmt::format("<br>reproduce <code>{}</code>", h(v));
  }
  if (auto v = prop(c, "rc_reproduce"); !v.empty()) {
    out += fmt::format("<br>RapidCheck reproduce <code>{}</code>", h(v));
  }
  return out;
}

void write_head(std::string& out, const Report& r) {
  const std::string name = r.matrix ? r.matrix->name : std::string("Test");
  fmt::format_to(std::back_inserter(out),
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>{} traceability — {}</title>\n<style>{}</style>\n</head>\n<body>\n",
                 h(name), h(r.generated_at), kStyle);
  fmt::format_to(std::back_inserter(out),
                 "<h1>{} traceability</h1>\n<p class=\"meta\">Generated {}", h(name),
                 h(r.generated_at));
  std::vector<std::string> modes;
  for (const auto& m : r.modes) modes.push_back(h(m));
  fmt::format_to(std::back_inserter(out), " · modes: {}", fmt::join(modes, ", "));
  if (r.matrix && !r.matrix->file.empty()) {
    fmt::format_to(std::back_inserter(out), " · matrix <code>{}</code>",
                   h(r.matrix->file.string()));
  }
  if (r.matrix && !r.matrix->seed.empty()) {
    fmt::format_to(std::back_inserter(out), " · traced against <code>{}</code>", h(r.matrix->seed));
  }
  out += "</p>\n";
  const Totals& t = r.totals;
  fmt::format_to(
      std::back_inserter(out),
      "<div class=\"cards\">\n<div class=\"card\"><b>Requirements: {}</b>{} {} {} {}</div>\n"
      "<div class=\"card\"><b>Test ids: {}</b>{} {} {} {}</div>\n"
      "<div class=\"card\"><b>Cases: {}</b>{} {} {}</div>\n"
      "<div class=\"card\"><b>Other</b>{} orphans · {} untagged · {} failed programs</div>\n"
      "</div>\n",
      t.requirements, badge("covered", fmt::format("{} covered", t.covered)),
      badge("partial", fmt::format("{} partial", t.partial)),
      badge("failing", fmt::format("{} failing", t.failing)),
      badge("uncovered", fmt::format("{} uncovered", t.uncovered)), t.ids,
      badge("passed", fmt::format("{} passed", t.ids_passed)),
      badge("failed", fmt::format("{} failed", t.ids_failed)),
      badge("skipped", fmt::format("{} skipped", t.ids_skipped)),
      badge("uncovered", fmt::format("{} uncovered", t.ids_uncovered)), t.cases,
      badge("passed", fmt::format("{} passed", t.cases_passed)),
      badge("failed", fmt::format("{} failed", t.cases_failed)),
      badge("skipped", fmt::format("{} skipped", t.cases_skipped)), r.orphans.size(),
      r.untagged.size(), r.failed_programs.size());
  if (r.code_coverage) {
    const auto& c = *r.code_coverage;
    fmt::format_to(std::back_inserter(out), "<p class=\"src\">Code: {} {} <code>{}</code></p>\n",
                   h(describe_total(c)), badge(c.meets_gate() ? "passed" : "failed"),
                   h(c.file.string()));
  }
}

void write_requirement_table(std::string& out, const Report& r) {
  out +=
      "<h2>Requirements</h2>\n<table>\n<tr><th>Requirement</th><th>Title</th><th>Status</th>"
      "<th>Ids passed</th></tr>\n";
  for (const auto& rr : r.requirements) {
    if (!rr.requirement) continue;
    const std::string id = h(rr.requirement->id);
    fmt::format_to(std::back_inserter(out),
                   "<tr class=\"st-{0}\"><td><a href=\"#{1}\">{1}</a></td><td>{2}</td><td>{3}</td>"
                   "<td>{4}/{5}</td></tr>\n",
                   to_string(rr.status), id, h(rr.requirement->title), badge(to_string(rr.status)),
                   passed_ids(rr), rr.ids.size());
  }
  out += "</table>\n";
}

void write_id_row(std::string& out, const Report& r, const IdReport& ir) {
  const MatrixTest& t = *ir.test;
  fmt::format_to(std::back_inserter(out),
                 "<tr class=\"st-{}\" id=\"{}\"><td><code>{}</code><br>{}</td><td>{}",
                 to_string(ir.status), h(t.id), h(t.id), h(to_string(t.kind)), h(t.summary()));
  if (!t.note.empty()) fmt::format_to(std::back_inserter(out), "<br><i>{}</i>", h(t.note));
  out += "</td>";
  for (const auto& m : r.modes) {
    auto it = ir.by_mode.find(m);
    out += "<td>" + badge(to_string(it == ir.by_mode.end() ? IdStatus::uncovered : it->second)) +
           "</td>";
  }
  out += "<td>";
  if (!ir.covering.empty()) {
    out += "<ul class=\"cov\">";
    for (const auto* c : ir.covering) {
      fmt::format_to(std::back_inserter(out),
                     "<li><span class=\"mode\">{}</span> <code>{}</code> {}{}", h(c->mode),
                     h(c->name), badge(to_string(c->outcome)), seeds(*c));
      if (c->outcome == Outcome::skipped && !c->message.empty() && c->message != ir.reason) {
        out += "<br><small>" + inline_message(c->message, 2, kReasonChars) + "</small>";
      }
      out += "</li>";
    }
    out += "</ul>";
  }
  out += "</td><td>";
  if (!ir.reason.empty()) {
    out += "<pre>" + message(ir.reason, kReasonLines, kReasonChars) + "</pre>";
  }
  out += "</td></tr>\n";
}

void write_requirement(std::string& out, const Report& r, const RequirementReport& rr) {
  const Requirement& req = *rr.requirement;
  fmt::format_to(
      std::back_inserter(out),
      "<section id=\"{0}\">\n<h2>{0} — {1} {2}</h2>\n<p class=\"src\">{3}/{4} ids passed",
      h(req.id), h(req.title), badge(to_string(rr.status)), passed_ids(rr), rr.ids.size());
  if (!req.source.empty()) {
    fmt::format_to(std::back_inserter(out), " · source <code>{}</code>", h(req.source));
  }
  if (!req.derived_from.empty()) {
    std::vector<std::string> seeds;
    for (const auto& s : req.derived_from) seeds.push_back("<code>" + h(s) + "</code>");
    fmt::format_to(std::back_inserter(out), " · derived from {}", fmt::join(seeds, ", "));
  }
  if (!req.coverage.empty()) {
    std::vector<std::string> items;
    for (const auto& s : req.coverage) items.push_back(h(s));
    fmt::format_to(std::back_inserter(out), " · coverage: {}", fmt::join(items, ", "));
  }
  if (r.code_coverage) {
    if (const std::string lines = describe(*r.code_coverage, req); !lines.empty()) {
      fmt::format_to(std::back_inserter(out), " · code line coverage: {}", h(lines));
    }
  }
  if (!req.doubles.empty()) {
    std::vector<std::string> items;
    for (const auto& s : req.doubles) items.push_back(h(s));
    fmt::format_to(std::back_inserter(out), " · test doubles: {}", fmt::join(items, ", "));
  }
  out += "</p>\n";
  if (!req.description.empty()) out += "<p>" + h(req.description) + "</p>\n";
  out += "<table>\n<tr><th>Test id</th><th>What it checks</th>";
  for (const auto& m : r.modes) out += "<th>" + h(m) + "</th>";
  out += "<th>Covering tests</th><th>Reason</th></tr>\n";
  for (const auto& ir : rr.ids) {
    if (ir.test) write_id_row(out, r, ir);
  }
  out += "</table>\n</section>\n";
}

void write_failures(std::string& out, const Report& r) {
  std::string body;
  std::size_t count = 0;
  for (const auto& run : r.runs) {
    for (const auto& c : run.cases) {
      if (c.outcome != Outcome::failed) continue;
      ++count;
      std::vector<std::string> covers;
      for (const auto& id : c.covers) covers.push_back(h(id));
      fmt::format_to(std::back_inserter(body),
                     "<div class=\"failure\"><b><code>{}</code></b> <span class=\"mode\">{}</span> "
                     "program <code>{}</code>{}{}<pre>{}</pre></div>\n",
                     h(c.name), h(c.mode), h(c.program),
                     covers.empty() ? "" : fmt::format(" covers {}", fmt::join(covers, ", ")),
                     seeds(c), message(c.message, kMessageLines, kMessageChars));
    }
  }
  if (count) fmt::format_to(std::back_inserter(out), "<h2>Failures ({})</h2>\n{}", count, body);
}

void write_orphans(std::string& out, const Report& r) {
  if (r.orphans.empty()) return;
  fmt::format_to(std::back_inserter(out),
                 "<h2>Orphans ({})</h2>\n<p>Tests naming an id the matrix does not have.</p>\n"
                 "<table>\n<tr><th>Unknown id</th><th>Test</th><th>Mode</th><th>Program</th>"
                 "<th>Outcome</th></tr>\n",
                 r.orphans.size());
  for (const auto& o : r.orphans) {
    if (!o.result) continue;
    fmt::format_to(std::back_inserter(out),
                   "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td><code>{}"
                   "</code></td><td>{}</td></tr>\n",
                   h(o.id), h(o.result->name), h(o.result->mode), h(o.result->program),
                   badge(to_string(o.result->outcome)));
  }
  out += "</table>\n";
}

void write_untagged(std::string& out, const Report& r) {
  if (r.untagged.empty()) return;
  std::map<std::string, std::vector<const CaseResult*>> by_program;
  std::set<std::string> distinct;  // one test run in two modes is one test
  for (const auto* c : r.untagged) {
    by_program[c->program].push_back(c);
    distinct.insert(c->program + "\n" + c->name);
  }
  fmt::format_to(std::back_inserter(out),
                 "<h2>Untagged tests ({})</h2>\n<details><summary>Tests that cover no test id, by "
                 "program</summary>\n",
                 distinct.size());
  for (const auto& [program, cases] : by_program) {
    fmt::format_to(std::back_inserter(out), "<p><code>{}</code></p>\n<ul>\n", h(program));
    for (const auto* c : cases) {
      fmt::format_to(std::back_inserter(out),
                     "<li><span class=\"mode\">{}</span> <code>{}</code> {}</li>\n", h(c->mode),
                     h(c->name), badge(to_string(c->outcome)));
    }
    out += "</ul>\n";
  }
  out += "</details>\n";
}

void write_failed_programs(std::string& out, const Report& r) {
  if (r.failed_programs.empty()) return;
  fmt::format_to(std::back_inserter(out),
                 "<h2>Failed programs ({})</h2>\n<p>Test programs that failed without reporting a "
                 "failed case (a crash or a timeout?).</p>\n<ul>\n",
                 r.failed_programs.size());
  for (const auto* p : r.failed_programs) {
    fmt::format_to(std::back_inserter(out),
                   "<li><code>{}</code> <span class=\"mode\">{}</span> {} after {:.1f} s{}</li>\n",
                   h(p->name), h(p->mode), badge("failed"), p->seconds,
                   p->message.empty()
                       ? std::string(": no detail")
                       : "<pre>" + message(p->message, kReasonLines, kReasonChars) + "</pre>");
  }
  out += "</ul>\n";
}

}  // namespace

std::string to_html(const Report& report) {
  std::string out;
  write_head(out, report);
  write_requirement_table(out, report);
  for (const auto& rr : report.requirements) {
    if (rr.requirement) write_requirement(out, report, rr);
  }
  write_failures(out, report);
  write_orphans(out, report);
  write_untagged(out, report);
  write_failed_programs(out, report);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace faultline::trace
