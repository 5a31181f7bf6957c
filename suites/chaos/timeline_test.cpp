// timeline.html in a real browser: headless Chromium loads a rendered timeline and the test checks
// that fault bands, operation marks, probe lines and alerts are drawn and that the page's script
// ran to its end (it sets data-rendered) without an uncaught error. Skips where Chromium is
// missing, saying so.
#include <cstdio>
#include <fstream>

#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/testing/process_testing.h"
#include "scenario_support.h"

namespace faultline::chaos::testing {
namespace {

std::string find_chromium() {
  for (const char* c : {"chromium", "chromium-browser", "google-chrome"}) {
    const std::string cmd = std::string("command -v ") + c + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return c;
  }
  return {};
}

// A small run's journal, written as the runner writes it.
std::vector<Event> sample_events(ManualClock& clock) {
  Journal j(clock);
  j.append(event_kind::kRunStart, "sample", {{"seed", 1}});
  for (int s = 0; s < 30; ++s) {
    if (s == 10)
      j.append(event_kind::kFaultInject, "fault-1",
               {{"kind", "partition"}, {"targets", {"postgres"}}});
    if (s == 20)
      j.append(event_kind::kFaultHeal, "fault-1",
               {{"kind", "partition"}, {"targets", {"postgres"}}});
    const bool bad = s >= 10 && s < 20;
    j.append(bad ? event_kind::kOpFail : event_kind::kOpOk, "orders",
             {{"op", "write"}, {"id", s}, {"reason", bad ? "pool-timeout" : ""}});
    if (s % 5 == 0)
      j.append(event_kind::kProbe, "order-error-rate", {{"value", bad ? 0.8 : 0.0}, {"ok", !bad}});
    if (s == 12) j.append("alert", "OrdersDown", {{"state", "firing"}});
    clock.advance(std::chrono::seconds(1));
  }
  return j.events();
}

TEST(Timeline, RendersInHeadlessChromium) {
  ManualClock clock;
  RunResult r;
  r.scenario = "sample";
  r.backend = "fake";
  r.seed = 1;
  r.verdict = "pass";
  r.reproduce = reproduce_command("sample", 1, "fake");
  const std::string html = render_timeline(r, sample_events(clock));
  for (const char* needle : {"class=\"fault-band\"", "class=\"op-mark ok\"",
                             "class=\"op-mark fail\"", "class=\"probe-line\"",
                             "class=\"alert-mark firing\"", "faultline chaos run sample --seed 1"})
    EXPECT_NE(html.find(needle), std::string::npos) << needle;
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no external asset

  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (ci/deps.sh installs it)";
  faultline::testing::TempDir tmp;
  const auto page = tmp.path() / "timeline.html";
  std::ofstream(page) << html;
  const std::string cmd =
      "timeout 60 " + chromium + " --headless --no-sandbox --disable-gpu --user-data-dir=" +
      (tmp.path() / "profile").string() + " --enable-logging=stderr --v=0 --dump-dom file://" +
      page.string() + " 2>" + (tmp.path() / "console.txt").string();
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string dom;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) dom.append(buf, n);
  const int status = pclose(p);
  if (dom.empty()) GTEST_SKIP() << "chromium did not start here (exit " << status << ")";
  EXPECT_NE(dom.find("data-rendered=\"1\""), std::string::npos)
      << "the page's script did not finish";
  EXPECT_NE(dom.find("fault-band"), std::string::npos);
  EXPECT_NE(dom.find("op-mark"), std::string::npos);
  EXPECT_NE(dom.find("probe-line"), std::string::npos);
  std::ifstream console(tmp.path() / "console.txt");
  const std::string log((std::istreambuf_iterator<char>(console)),
                        std::istreambuf_iterator<char>());
  EXPECT_EQ(log.find("Uncaught"), std::string::npos) << log;
}

}  // namespace
}  // namespace faultline::chaos::testing
