// Tests of the Markdown, HTML and JUnit writers of the traceability report, on a Report built by
// hand that holds every status: ids passed, failed, skipped and uncovered in two modes,
// requirements covered, partial, failing and uncovered, an orphan, an untagged test and a program
// that failed without detail.
#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "harness/core/redact.h"
#include "harness/trace/report.h"

namespace faultline::trace {
namespace {

const std::string kSecret = "s3cr3t-value-7f1e";

CaseResult make_case(std::string name, std::string program, std::string mode, Outcome outcome,
                     std::vector<std::string> covers, std::string message = "") {
  CaseResult c;
  c.name = std::move(name);
  c.program = std::move(program);
  c.mode = std::move(mode);
  c.outcome = outcome;
  c.message = std::move(message);
  c.seconds = 0.25;
  c.covers = std::move(covers);
  for (const auto& id : c.covers) c.properties["covers"] += (id == c.covers[0] ? "" : " ") + id;
  c.properties["seed"] = "1234";
  return c;
}

MatrixTest make_test(std::string id, TestKind kind, std::string what) {
  MatrixTest t;
  t.id = std::move(id);
  t.requirement = "REQ-INFRA-" + t.id.substr(t.id.find('-', 3) + 1, 2);
  t.kind = kind;
  if (kind == TestKind::property) {
    t.property = std::move(what);
  } else {
    t.given = "a stack";
    t.when = std::move(what);
    t.then = "it holds";
  }
  return t;
}

// Owns the matrix the report points into; never moved once built.
struct Fixture {
  Matrix matrix;
  Report report;
};

std::unique_ptr<Fixture> make_fixture() {
  auto f = std::make_unique<Fixture>();
  Matrix& m = f->matrix;
  m.name = "REQ-INFRA";
  m.seed = "shared/seeds/002_0340280d77b829a9.txt";
  m.file = "fixtures/req-infra.yaml";
  auto add_req = [&](std::string id, std::string title, std::vector<MatrixTest> tests) {
    Requirement r;
    r.id = std::move(id);
    r.title = std::move(title);
    r.description = "Description of " + r.id;
    r.tests = std::move(tests);
    m.requirements.push_back(std::move(r));
  };
  add_req("REQ-INFRA-01", "Container lifecycle",
          {make_test("UT-INFRA-01.1", TestKind::unit, "a container starts"),
           make_test("UT-INFRA-01.2", TestKind::unit, "a container stops")});
  add_req("REQ-INFRA-02", "Database failover",
          {make_test("UT-INFRA-02.1", TestKind::unit, "the primary dies"),
           make_test("ET-INFRA-02.1", TestKind::edge, "the pool is full")});
  add_req("REQ-INFRA-03", "Cache <fallback> & \"reads\"",
          {make_test("PT-INFRA-03.1", TestKind::property, "reads never lose data"),
           make_test("IT-INFRA-03", TestKind::integration, "redis goes away")});
  add_req("REQ-INFRA-05", "Kafka survives one broker loss",
          {make_test("UT-INFRA-05.1", TestKind::unit, "a broker dies")});
  m.requirements[0].source = "shared/seeds/002_0340280d77b829a9.txt";
  m.requirements[3].derived_from = {"shared/seeds/000_a.txt", "shared/seeds/001_b.txt"};

  std::vector<RunResults> runs(2);
  runs[0].mode = "fake";
  runs[1].mode = "local";
  for (auto& run : runs) {
    const std::string& mode = run.mode;
    run.cases.push_back(
        make_case("Lifecycle.Starts", "stack_test", mode, Outcome::passed, {"UT-INFRA-01.1"}));
    run.cases.push_back(
        make_case("Failover.PrimaryDies", "db_test", mode, Outcome::passed, {"UT-INFRA-02.1"}));
    run.cases.push_back(make_case("Failover.PoolFull", "db_test", mode, Outcome::skipped,
                                  {"ET-INFRA-02.1"},
                                  "db_test.cpp:40\nrequires a local PostgreSQL"));
    run.cases.push_back(
        make_case("Helpers.ParsesDuration", "core_test", mode, Outcome::passed, {}));
  }
  runs[0].cases.push_back(
      make_case("Lifecycle.Stops", "stack_test", "fake", Outcome::passed, {"UT-INFRA-01.2"}));
  runs[1].cases.push_back(make_case("Lifecycle.Stops", "stack_test", "local", Outcome::skipped,
                                    {"UT-INFRA-01.2"}, "can't reach docker"));
  auto prop = make_case("CacheProperty.NeverLoses", "cache_test", "fake", Outcome::failed,
                        {"PT-INFRA-03.1"},
                        "cache_test.cpp:88\nExpected a | b <tag>\nline 3\nline 4\nline 5\n"
                        "line 6\nline 7\nline 8\nline 9 hidden\n\x1b[31mred\x1b[0m");
  prop.properties["reproduce"] =
      "./tests/cache_test --gtest_filter=CacheProperty.NeverLoses --seed 1234";
  prop.properties["rc_reproduce"] = "BchVZ2Vu";
  runs[0].cases.push_back(prop);
  runs[1].cases.push_back(make_case("CacheProperty.NeverLoses", "cache_test", "local",
                                    Outcome::passed, {"PT-INFRA-03.1"}));
  runs[0].cases.push_back(
      make_case("Ghost.Test", "ghost_test", "fake", Outcome::passed, {"UT-INFRA-09.9"}));
  runs[1].programs.push_back({"chaos_test", "local", Outcome::failed, "", 3});  // no detail

  Report& r = f->report;
  r.matrix = &m;
  r.modes = {"fake", "local"};
  r.generated_at = "2024-05-01T12:00:00Z";
  r.runs = std::move(runs);  // pointers are taken only after this move
  const auto& fake = r.runs[0].cases;
  const auto& local = r.runs[1].cases;
  using S = IdStatus;
  const auto& q = m.requirements;
  auto id = [&](std::size_t i, std::size_t n, S all, S in_fake, S in_local,
                std::vector<const CaseResult*> covering, std::string reason = "") {
    return IdReport{&q[i].tests[n],
                    all,
                    {{"fake", in_fake}, {"local", in_local}},
                    std::move(covering),
                    std::move(reason)};
  };
  const S pass = S::passed, fail = S::failed, skip = S::skipped, none = S::uncovered;
  auto req = [&](std::size_t i, RequirementStatus status, std::vector<IdReport> ids) {
    r.requirements.push_back({&q[i], status, std::move(ids)});
  };
  req(0, RequirementStatus::covered,
      {id(0, 0, pass, pass, pass, {&fake[0], &local[0]}),
       id(0, 1, pass, pass, skip, {&fake[4], &local[4]})});
  req(1, RequirementStatus::partial,
      {id(1, 0, pass, pass, pass, {&fake[1], &local[1]}),
       id(1, 1, skip, skip, skip, {&fake[2], &local[2]}, fake[2].message)});
  req(2, RequirementStatus::failing,
      {id(2, 0, fail, fail, pass, {&fake[5], &local[5]}, fake[5].message),
       id(2, 1, none, none, none, {})});
  req(3, RequirementStatus::uncovered, {id(3, 0, none, none, none, {})});
  r.orphans = {{"UT-INFRA-09.9", &fake[6]}};
  r.untagged = {&fake[3], &local[3]};
  r.failed_programs = {&r.runs[1].programs[0]};
  r.totals = Totals{7, 3, 1, 1, 2, 4, 1, 1, 1, 1, 13, 9, 1, 3};
  return f;
}

// Prints the text on failure, which a bare find() would not.
::testing::AssertionResult contains(const std::string& text, const std::string& needle) {
  if (text.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no \"" << needle << "\" in:\n" << text;
}

// The table row of Markdown `text` that starts with `first_cell`.
std::string md_row(const std::string& text, const std::string& first_cell) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("| " + first_cell + " |")) return line;
  }
  return "";
}

// Cells separated by unescaped pipes.
std::size_t md_columns(const std::string& row) {
  std::size_t pipes = 0;
  for (std::size_t i = 0; i < row.size(); ++i) {
    pipes += row[i] == '|' && (i == 0 || row[i - 1] != '\\');
  }
  return pipes - 1;
}

TEST(MarkdownReport, TitleAndSummaryCountEveryStatus) {
  auto f = make_fixture();
  const std::string md = to_markdown(f->report);
  EXPECT_TRUE(md.starts_with("# REQ-INFRA traceability — 2024-05-01T12:00:00Z\n"));
  EXPECT_TRUE(
      contains(md, "**Requirements (4):** 1 covered · 1 partial · 1 failing · 1 uncovered"));
  EXPECT_TRUE(contains(md, "**Test ids (7):** 3 passed · 1 failed · 1 skipped · 2 uncovered"));
  EXPECT_TRUE(contains(md_row(md, "REQ-INFRA-01"), "✅ covered | 2/2"));
  EXPECT_TRUE(contains(md_row(md, "REQ-INFRA-02"), "⚠️ partial | 1/2"));
  EXPECT_TRUE(contains(md_row(md, "REQ-INFRA-05"), "— uncovered | 0/1"));
  // Markdown and HTML in a title are escaped, not interpreted.
  EXPECT_TRUE(
      contains(md_row(md, "REQ-INFRA-03"), "Cache \\<fallback\\> \\& \"reads\" | ❌ failing"));
}

TEST(MarkdownReport, IdRowsShowAStatusPerModeTestsAndReason) {
  auto f = make_fixture();
  const std::string md = to_markdown(f->report);
  EXPECT_TRUE(contains(md, "| Test id | Kind | fake | local | Covering tests | Reason |"));
  const std::string failed = md_row(md, "PT-INFRA-03.1");
  EXPECT_TRUE(contains(failed, "| property | ❌ failed | ✅ passed | `CacheProperty.NeverLoses` |"));
  EXPECT_TRUE(contains(failed, "cache\\_test.cpp:88<br>Expected a \\| b \\<tag\\><br>line 3 …"));
  EXPECT_EQ(md_columns(failed), 6u) << failed;
  const std::string skipped = md_row(md, "ET-INFRA-02.1");
  EXPECT_TRUE(contains(skipped, "| ⏭ skipped | ⏭ skipped |")) << skipped;
  EXPECT_TRUE(contains(skipped, "requires a local PostgreSQL")) << skipped;
  EXPECT_TRUE(contains(md_row(md, "UT-INFRA-01.2"),
                       "| ✅ passed | ⏭ skipped | `Lifecycle.Stops` | local: can't reach docker |"))
      << "the skip reason of the mode that skipped";
  EXPECT_TRUE(contains(md_row(md, "IT-INFRA-03"), "| — uncovered | — uncovered |  |  |"));
  EXPECT_TRUE(contains(md, "### REQ-INFRA-05 — Kafka survives one broker loss (— uncovered, 0/1"));
}

TEST(MarkdownReport, FailuresCarryMessageSeedAndReproduceCommand) {
  auto f = make_fixture();
  const std::string md = to_markdown(f->report);
  const auto at = md.find("## Failures (1)");
  ASSERT_NE(at, std::string::npos);
  const std::string failures = md.substr(at, md.find("## Orphans") - at);
  EXPECT_TRUE(contains(failures,
                       "**`CacheProperty.NeverLoses`** (fake, `cache_test`) — covers "
                       "PT-INFRA-03.1 — seed `1234`"));
  EXPECT_TRUE(contains(failures, "```text\ncache_test.cpp:88\nExpected a | b <tag>\n"));
  EXPECT_EQ(failures.find("line 9 hidden"), std::string::npos) << "only the first lines";
  EXPECT_TRUE(contains(
      failures,
      "Reproduce: `./tests/cache_test --gtest_filter=CacheProperty.NeverLoses --seed 1234`"));
  EXPECT_TRUE(contains(failures, "RapidCheck: `BchVZ2Vu`"));
}

TEST(MarkdownReport, ListsOrphansUntaggedAndFailedPrograms) {
  auto f = make_fixture();
  const std::string md = to_markdown(f->report);
  EXPECT_TRUE(
      contains(md_row(md, "UT-INFRA-09.9"), "`Ghost.Test` | fake | `ghost_test` | ✅ passed"));
  EXPECT_TRUE(
      contains(md, "<details><summary>Tests that cover no test id: 1 test in 1 program</summary>"));
  EXPECT_TRUE(contains(md, "- `core_test` (fake, local): `Helpers.ParsesDuration`\n"));
  EXPECT_TRUE(contains(md, "- `chaos_test` (local, 3.0 s): no detail"));
}

TEST(MarkdownReport, StaysOneRowPerIdAtFiftySixIds) {
  Fixture f;
  for (int req = 1; req <= 8; ++req) {
    Requirement r;
    r.id = "REQ-INFRA-0" + std::to_string(req);
    r.title = "Requirement " + std::to_string(req);
    for (int n = 1; n <= 7; ++n) {
      r.tests.push_back(make_test("UT-INFRA-0" + std::to_string(req) + "." + std::to_string(n),
                                  TestKind::unit, "step " + std::to_string(n)));
    }
    f.matrix.requirements.push_back(std::move(r));
  }
  f.report.matrix = &f.matrix;
  f.report.modes = {"fake"};
  for (const auto& r : f.matrix.requirements) {
    RequirementReport rr{&r, RequirementStatus::uncovered, {}};
    for (const auto& t : r.tests) {
      rr.ids.push_back({&t, IdStatus::uncovered, {{"fake", IdStatus::uncovered}}, {}, ""});
    }
    f.report.requirements.push_back(std::move(rr));
  }
  const std::string md = to_markdown(f.report);
  for (const auto& r : f.matrix.requirements) {
    for (const auto& t : r.tests) {
      const std::string row = md_row(md, t.id);
      EXPECT_TRUE(contains(row, "— uncovered")) << t.id;
      EXPECT_EQ(md.find("| " + t.id + " |", md.find(row) + 1), std::string::npos) << t.id;
    }
  }
  EXPECT_EQ(to_html(f.report).find("Failures"), std::string::npos);
}

TEST(HtmlReport, IsSelfContained) {
  auto f = make_fixture();
  const std::string html = to_html(f->report);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(html.ends_with("</html>\n"));
  EXPECT_TRUE(contains(html, "<style>"));
  for (const char* external :
       {"http://", "https://", "src=", "<link", "<script", "@import", "url(", "//fonts", "<img"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  // Every href is an anchor inside the page.
  for (auto at = html.find("href=\""); at != std::string::npos; at = html.find("href=\"", at + 1)) {
    EXPECT_EQ(html[at + 6], '#') << html.substr(at, 40);
  }
}

TEST(HtmlReport, ShowsEveryIdWithSummaryStatusSeedsAndReproduce) {
  auto f = make_fixture();
  const std::string html = to_html(f->report);
  for (const auto& r : f->matrix.requirements) {
    EXPECT_TRUE(contains(html, "<section id=\"" + r.id + "\">")) << r.id;
    for (const auto& t : r.tests) {
      EXPECT_TRUE(contains(html, "<code>" + t.id + "</code>")) << t.id;
      EXPECT_TRUE(contains(html, t.summary())) << t.summary();
    }
  }
  EXPECT_TRUE(contains(html, "<tr class=\"st-failed\" id=\"PT-INFRA-03.1\">"));
  EXPECT_TRUE(contains(html, "<tr class=\"st-uncovered\" id=\"IT-INFRA-03\">"));
  EXPECT_TRUE(contains(html, "<tr class=\"st-skipped\" id=\"ET-INFRA-02.1\">"));
  EXPECT_TRUE(contains(html, "<span class=\"badge failing\">failing</span>"));
  EXPECT_TRUE(contains(html, "<span class=\"badge partial\">partial</span>"));
  EXPECT_TRUE(contains(html, "seed <code>1234</code>"));
  EXPECT_TRUE(contains(html,
                       "<code>./tests/cache_test --gtest_filter=CacheProperty.NeverLoses --seed "
                       "1234</code>"));
  EXPECT_TRUE(contains(html, "source <code>shared/seeds/002_0340280d77b829a9.txt</code>"));
  EXPECT_TRUE(contains(html,
                       "derived from <code>shared/seeds/000_a.txt</code>, "
                       "<code>shared/seeds/001_b.txt</code>"));
  EXPECT_TRUE(contains(html, "<h2>Orphans (1)</h2>"));
  EXPECT_TRUE(contains(html, "<code>UT-INFRA-09.9</code>"));
  EXPECT_TRUE(contains(html, "<code>Helpers.ParsesDuration</code>"));
  EXPECT_TRUE(contains(html, "<code>chaos_test</code>"));
  EXPECT_TRUE(contains(html, "line 9 hidden")) << "the full message is in Failures";
}

TEST(HtmlReport, EscapesAllText) {
  auto f = make_fixture();
  const std::string html = to_html(f->report);
  EXPECT_TRUE(contains(html, "Cache &lt;fallback&gt; &amp; &quot;reads&quot;"));
  EXPECT_TRUE(contains(html, "Expected a | b &lt;tag&gt;"));
  EXPECT_TRUE(contains(html, "can&#39;t reach docker"));
  EXPECT_EQ(html.find("<tag>"), std::string::npos);
  EXPECT_EQ(html.find("<fallback>"), std::string::npos);
}

TEST(JunitReport, ParsesBackWithOneSuitePerModeAndProgram) {
  auto f = make_fixture();
  const std::string xml = to_junit(f->report);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml;
  auto root = doc.child("testsuites");
  EXPECT_EQ(root.attribute("tests").as_int(), 14);  // 13 cases + the crashed program
  EXPECT_EQ(root.attribute("failures").as_int(), 2);
  EXPECT_EQ(root.attribute("skipped").as_int(), 3);
  std::vector<std::string> names;
  for (auto suite : root.children("testsuite")) {
    names.push_back(suite.attribute("name").as_string());
    int tests = 0, failures = 0, skipped = 0;
    for (auto tc : suite.children("testcase")) {
      ++tests;
      failures += static_cast<bool>(tc.child("failure"));
      skipped += static_cast<bool>(tc.child("skipped"));
      EXPECT_TRUE(tc.child("properties").find_child_by_attribute("property", "name", "mode"));
    }
    EXPECT_EQ(suite.attribute("tests").as_int(), tests) << names.back();
    EXPECT_EQ(suite.attribute("failures").as_int(), failures) << names.back();
    EXPECT_EQ(suite.attribute("skipped").as_int(), skipped) << names.back();
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "fake/cache_test", "fake/core_test", "fake/db_test", "fake/ghost_test",
                       "fake/stack_test", "local/cache_test", "local/chaos_test", "local/core_test",
                       "local/db_test", "local/stack_test"}));
}

TEST(JunitReport, CasesCarryClassnameFailureSkipAndProperties) {
  auto f = make_fixture();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(to_junit(f->report).c_str()));
  auto root = doc.child("testsuites");
  auto cache = root.find_child_by_attribute("testsuite", "name", "fake/cache_test");
  auto tc = cache.child("testcase");
  EXPECT_STREQ(tc.attribute("name").as_string(), "NeverLoses");
  EXPECT_STREQ(tc.attribute("classname").as_string(), "fake.CacheProperty");
  EXPECT_STREQ(tc.attribute("time").as_string(), "0.250");
  EXPECT_STREQ(tc.child("failure").attribute("message").as_string(),
               "cache_test.cpp:88: Expected a | b <tag>");
  const std::string text = tc.child("failure").text().as_string();
  EXPECT_TRUE(contains(text, "line 9 hidden"));
  EXPECT_TRUE(contains(text, "reproduce: ./tests/cache_test"));
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "no control characters in XML";
  auto props = tc.child("properties");
  auto value = [&](const char* name) {
    return std::string(
        props.find_child_by_attribute("property", "name", name).attribute("value").as_string());
  };
  EXPECT_EQ(value("covers"), "PT-INFRA-03.1");
  EXPECT_EQ(value("seed"), "1234");
  EXPECT_EQ(value("rc_reproduce"), "BchVZ2Vu");
  EXPECT_EQ(value("mode"), "fake");

  auto pool = root.find_child_by_attribute("testsuite", "name", "local/db_test")
                  .find_child_by_attribute("testcase", "name", "PoolFull");
  EXPECT_STREQ(pool.attribute("classname").as_string(), "local.Failover");
  EXPECT_TRUE(contains(std::string(pool.child("skipped").attribute("message").as_string()),
                       "requires a local PostgreSQL"));

  auto crashed =
      root.find_child_by_attribute("testsuite", "name", "local/chaos_test").child("testcase");
  EXPECT_STREQ(crashed.attribute("name").as_string(), "chaos_test");
  EXPECT_TRUE(contains(std::string(crashed.child("failure").attribute("message").as_string()),
                       "without reporting a failed case"));
}

TEST(ReportWriters, NeverWriteASecret) {
  Redactor::process().add(kSecret);
  auto f = make_fixture();
  auto& fake = f->report.runs[0].cases;
  fake[5].message = "connect failed: password=" + kSecret + " rejected";
  fake[5].properties["reproduce"] = "FAULTLINE_TOKEN=" + kSecret + " ./tests/cache_test";
  f->report.requirements[2].ids[0].reason = fake[5].message;
  f->report.runs[1].cases[2].message = "skipped, token " + kSecret;
  f->report.runs[1].programs[0].message = "crashed with " + kSecret;
  fake[3].name = "Helpers." + kSecret;
  for (const std::string& out : {to_markdown(f->report), to_html(f->report), to_junit(f->report)}) {
    EXPECT_EQ(out.find(kSecret), std::string::npos) << out;
    EXPECT_EQ(out.find("s3cr3t"), std::string::npos) << "not even a clipped piece";
    EXPECT_TRUE(contains(out, "redacted"));
  }
}

}  // namespace
}  // namespace faultline::trace
