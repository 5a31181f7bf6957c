// The Markdown traceability report (traceability.md): short enough to paste into a pull request.
//
// A title and a one-line summary, a table of requirements, then one table of test ids per
// requirement with a status mark per mode, the failing cases with seed and reproduce command, the
// orphans, the untagged tests (collapsed) and the programs that failed without detail. Every piece
// of text goes through redact() first, then is escaped for Markdown (and GFM table cells).
#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "harness/core/redact.h"
#include "harness/trace/report.h"
#include "harness/trace/report_text.h"

namespace faultline::trace {
namespace {

constexpr std::size_t kCellLines = 3;     // lines of a reason shown in a table cell
constexpr std::size_t kCellChars = 200;   // characters of a reason shown in a table cell
constexpr std::size_t kMessageLines = 8;  // lines of a failure message shown
constexpr std::size_t kMessageChars = 1500;
constexpr std::size_t kMaxFailures = 40;  // the rest are in traceability.html and junit.xml
constexpr std::size_t kMaxCoveringNames = 4;

// Escapes already-redacted plain text: Markdown punctuation gets a backslash (so `|` is safe in a
// table cell and `<tag>` is not taken for HTML), a newline becomes <br>.
std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') {
      out += "<br>";
      continue;
    }
    if (std::string_view("\\`*_~[]<>|&#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string md(std::string_view text) {
  return escape(redact(text));
}

// Inline code on one line, fenced with one more backtick than the longest run inside it. In a
// table cell `|` must still be escaped (GFM removes the backslash inside code spans there).
std::string code(std::string_view raw, bool in_table = true) {
  std::string text = redact(raw);
  if (text.empty()) return "";
  std::size_t longest = 0, run = 0;
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  if (in_table) {
    std::string piped;
    for (char c : text) piped += c == '|' ? std::string("\\|") : std::string(1, c);
    text = std::move(piped);
  }
  const std::string fence(longest + 1, '`');
  const char* pad = text.front() == '`' || text.back() == '`' ? " " : "";
  return fence + pad + text + pad + fence;
}

// A fenced code block for a multi-line message.
std::string block(const std::string& redacted) {
  std::size_t longest = 0, run = 0;
  for (char c : redacted) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  return fence + "text\n" + redacted + "\n" + fence + "\n";
}

std::string_view mark(IdStatus status) {
  switch (status) {
    case IdStatus::passed:
      return "✅ passed";
    case IdStatus::failed:
      return "❌ failed";
    case IdStatus::skipped:
      return "⏭ skipped";
    case IdStatus::uncovered:
      return "— uncovered";
  }
  return "?";
}

std::string_view mark(RequirementStatus status) {
  switch (status) {
    case RequirementStatus::covered:
      return "✅ covered";
    case RequirementStatus::partial:
      return "⚠️ partial";
    case RequirementStatus::failing:
      return "❌ failing";
    case RequirementStatus::uncovered:
      return "— uncovered";
  }
  return "?";
}

std::string_view mark(Outcome outcome) {
  switch (outcome) {
    case Outcome::passed:
      return "✅ passed";
    case Outcome::failed:
      return "❌ failed";
    case Outcome::skipped:
      return "⏭ skipped";
  }
  return "?";
}

std::string prop(const CaseResult& c, const std::string& key) {
  auto it = c.properties.find(key);
  return it == c.properties.end() ? std::string() : it->second;
}

std::string row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const auto& cell : cells) out += " " + cell + " |";
  return out + "\n";
}

std::string header(const std::vector<std::string>& cells) {
  std::string out = row(cells) + "|";
  for (std::size_t i = 0; i < cells.size(); ++i) out += "---|";
  return out + "\n";
}

std::string report_code_coverage(const Report& r, const Requirement& req) {
  return r.code_coverage ? describe(*r.code_coverage, req) : std::string();
}

void write_summary(std::string& out, const Report& r) {
  const Totals& t = r.totals;
  std::string_view verdict = "✅ every requirement covered";
  if (t.failing > 0 || !r.failed_programs.empty()) {
    verdict = "❌ failing";
  } else if (t.partial > 0 || t.uncovered > 0) {
    verdict = "⚠️ incomplete";
  }
  std::vector<std::string> modes;
  for (const auto& m : r.modes) modes.push_back(md(m));
  fmt::format_to(std::back_inserter(out),
                 "**{}** — **Requirements ({}):** {} covered · {} partial · {} failing · {} "
                 "uncovered — **Test ids ({}):** {} passed · {} failed · {} skipped · {} uncovered "
                 "— **Cases ({}):** {} passed · {} failed · {} skipped — **Modes:** {}\n\n",
                 verdict, t.requirements, t.covered, t.partial, t.failing, t.uncovered, t.ids,
                 t.ids_passed, t.ids_failed, t.ids_skipped, t.ids_uncovered, t.cases,
                 t.cases_passed, t.cases_failed, t.cases_skipped,
                 modes.empty() ? std::string("none") : fmt::format("{}", fmt::join(modes, ", ")));
  if (r.code_coverage) {
    fmt::format_to(std::back_inserter(out), "**Code:** {} — {}\n\n",
                   md(describe_total(*r.code_coverage)), md(r.code_coverage->file.string()));
  }
}

std::size_t passed_ids(const RequirementReport& rr) {
  return static_cast<std::size_t>(std::count_if(
      rr.ids.begin(), rr.ids.end(), [](const auto& i) { return i.status == IdStatus::passed; }));
}

void write_requirement_table(std::string& out, const Report& r) {
  out += "## Requirements\n\n";
  out += header({"Requirement", "Title", "Status", "Ids passed"});
  for (const auto& rr : r.requirements) {
    if (!rr.requirement) continue;
    out += row({md(rr.requirement->id), md(rr.requirement->title), std::string(mark(rr.status)),
                fmt::format("{}/{}", passed_ids(rr), rr.ids.size())});
  }
  out += "\n";
}

std::string covering_names(const IdReport& ir) {
  std::vector<std::string> names;
  for (const auto* c : ir.covering) {
    if (std::find(names.begin(), names.end(), c->name) == names.end()) names.push_back(c->name);
  }
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kMaxCoveringNames; ++i) {
    out += (i ? "<br>" : "") + code(names[i]);
  }
  if (names.size() > kMaxCoveringNames) {
    out += fmt::format("<br>+{} more", names.size() - kMaxCoveringNames);
  }
  return out;
}

// The id's reason or, for an id that passed somewhere, why it was skipped in the other modes.
std::string reason_of(const IdReport& ir) {
  if (!ir.reason.empty()) return ir.reason;
  std::string out;
  std::set<std::string> seen;
  for (const auto* c : ir.covering) {
    auto it = ir.by_mode.find(c->mode);
    if (c->outcome != Outcome::skipped || c->message.empty() || it == ir.by_mode.end() ||
        it->second != IdStatus::skipped || !seen.insert(c->mode).second) {
      continue;
    }
    out += (out.empty() ? "" : "\n") + c->mode + ": " + c->message;
  }
  return out;
}

std::string plural(std::size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

void write_requirement(std::string& out, const Report& r, const RequirementReport& rr) {
  const Requirement& req = *rr.requirement;
  fmt::format_to(std::back_inserter(out), "### {} — {} ({}, {}/{} ids passed)\n\n", md(req.id),
                 md(req.title), mark(rr.status), passed_ids(rr), rr.ids.size());
  std::string mapping;
  if (!req.coverage.empty()) {
    std::vector<std::string> names;
    for (const auto& n : req.coverage) names.push_back(code(n));
    mapping = fmt::format("Coverage mapping: {}", fmt::join(names, ", "));
  }
  if (const std::string lines = report_code_coverage(r, req); !lines.empty()) {
    mapping += (mapping.empty() ? "Code line coverage: " : " — code line coverage: ") + md(lines);
  }
  if (!mapping.empty()) out += mapping + "\n\n";
  std::vector<std::string> head = {"Test id", "Kind"};
  for (const auto& m : r.modes) head.push_back(md(m));
  head.insert(head.end(), {"Covering tests", "Reason"});
  out += header(head);
  for (const auto& ir : rr.ids) {
    if (!ir.test) continue;
    std::vector<std::string> cells = {md(ir.test->id), std::string(to_string(ir.test->kind))};
    for (const auto& m : r.modes) {
      auto it = ir.by_mode.find(m);
      cells.emplace_back(mark(it == ir.by_mode.end() ? IdStatus::uncovered : it->second));
    }
    cells.push_back(covering_names(ir));
    cells.push_back(escape(clip(redact(reason_of(ir)), kCellLines, kCellChars, " …")));
    out += row(cells);
  }
  out += "\n";
}

void write_failures(std::string& out, const Report& r) {
  std::vector<const CaseResult*> failed;
  for (const auto& run : r.runs) {
    for (const auto& c : run.cases) {
      if (c.outcome == Outcome::failed) failed.push_back(&c);
    }
  }
  if (failed.empty()) return;
  fmt::format_to(std::back_inserter(out), "## Failures ({})\n\n", failed.size());
  for (std::size_t i = 0; i < failed.size() && i < kMaxFailures; ++i) {
    const CaseResult& c = *failed[i];
    std::string line =
        fmt::format("**{}** ({}, {})", code(c.name, false), md(c.mode), code(c.program, false));
    std::vector<std::string> covers;
    for (const auto& id : c.covers) covers.push_back(md(id));
    if (!covers.empty()) line += fmt::format(" — covers {}", fmt::join(covers, ", "));
    for (const char* key : {"seed", "rc_seed"}) {
      if (auto v = prop(c, key); !v.empty()) line += fmt::format(" — {} {}", key, code(v, false));
    }
    out += line + "\n\n";
    std::string message = clip(redact(c.message), kMessageLines, kMessageChars, " …");
    out += block(message.empty() ? "(no message)" : message) + "\n";
    for (const char* key : {"reproduce", "rc_reproduce"}) {
      if (auto v = prop(c, key); !v.empty()) {
        fmt::format_to(std::back_inserter(out), "{}: {}\n\n",
                       key == std::string_view("reproduce") ? "Reproduce" : "RapidCheck",
                       code(v, false));
      }
    }
  }
  if (failed.size() > kMaxFailures) {
    fmt::format_to(std::back_inserter(out),
                   "…and {} more failures; see traceability.html or junit.xml.\n\n",
                   failed.size() - kMaxFailures);
  }
}

void write_orphans(std::string& out, const Report& r) {
  if (r.orphans.empty()) return;
  fmt::format_to(std::back_inserter(out),
                 "## Orphans ({})\n\nTests naming an id the matrix does not have.\n\n",
                 r.orphans.size());
  out += header({"Unknown id", "Test", "Mode", "Program", "Outcome"});
  for (const auto& o : r.orphans) {
    if (!o.result) continue;
    out += row({md(o.id), code(o.result->name), md(o.result->mode), code(o.result->program),
                std::string(mark(o.result->outcome))});
  }
  out += "\n";
}

void write_untagged(std::string& out, const Report& r) {
  if (r.untagged.empty()) return;
  struct Group {
    std::vector<std::string> modes, names;
  };
  std::map<std::string, Group> by_program;
  std::set<std::string> distinct;
  for (const auto* c : r.untagged) {
    Group& g = by_program[c->program];
    if (std::find(g.modes.begin(), g.modes.end(), c->mode) == g.modes.end()) {
      g.modes.push_back(c->mode);
    }
    if (std::find(g.names.begin(), g.names.end(), c->name) == g.names.end()) {
      g.names.push_back(c->name);
    }
    distinct.insert(c->program + "\n" + c->name);
  }
  fmt::format_to(std::back_inserter(out),
                 "## Untagged tests ({})\n\n<details><summary>Tests that cover no test id: {} "
                 "in {}</summary>\n\n",
                 distinct.size(), plural(distinct.size(), "test"),
                 plural(by_program.size(), "program"));
  for (const auto& [program, g] : by_program) {
    std::vector<std::string> modes, names;
    for (const auto& m : g.modes) modes.push_back(md(m));
    for (const auto& n : g.names) names.push_back(code(n, false));
    fmt::format_to(std::back_inserter(out), "- {} ({}): {}\n", code(program, false),
                   fmt::join(modes, ", "), fmt::join(names, ", "));
  }
  out += "\n</details>\n\n";
}

void write_failed_programs(std::string& out, const Report& r) {
  if (r.failed_programs.empty()) return;
  fmt::format_to(std::back_inserter(out),
                 "## Failed programs ({})\n\nTest programs that failed without reporting a "
                 "failed case (a crash or a timeout?).\n\n",
                 r.failed_programs.size());
  for (const auto* p : r.failed_programs) {
    std::string message = clip(redact(p->message), 1, kCellChars, " …");
    fmt::format_to(std::back_inserter(out), "- {} ({}, {:.1f} s): {}\n", code(p->name, false),
                   md(p->mode), p->seconds,
                   message.empty() ? std::string("no detail") : escape(message));
  }
  out += "\n";
}

}  // namespace

std::string to_markdown(const Report& report) {
  std::string out;
  const std::string name = report.matrix ? report.matrix->name : std::string();
  fmt::format_to(std::back_inserter(out), "# {} traceability — {}\n\n",
                 name.empty() ? std::string("Test") : md(name), md(report.generated_at));
  write_summary(out, report);
  write_requirement_table(out, report);
  for (const auto& rr : report.requirements) {
    if (rr.requirement) write_requirement(out, report, rr);
  }
  write_failures(out, report);
  write_orphans(out, report);
  write_untagged(out, report);
  write_failed_programs(out, report);
  while (out.size() >= 2 && out.ends_with("\n\n")) out.pop_back();
  return out;
}

}  // namespace faultline::trace
