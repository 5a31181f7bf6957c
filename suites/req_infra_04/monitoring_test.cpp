// REQ-INFRA-04 in fake mode: metrics from known figures, exposition, the dashboard, collection
// failures, and the accuracy/latency property on the simulated clock.
#include <gtest/gtest.h>

#include <rapidcheck.h>
#include <fstream>
#include <set>

#include "harness/core/log.h"
#include "harness/ops/monitoring_service.h"
#include "harness/testing/covers.h"
#include "harness/testing/property.h"
#include "suites/req_infra_04/fake_source.h"

namespace faultline::ops {
namespace {

using namespace std::chrono_literals;
using faultline::ops::testing::FakeSource;

TEST(Monitoring, CollectsCpuMemoryAndDiskFromProcFigures) {
  FAULTLINE_COVERS("UT-INFRA-04.1");
  ManualClock clock;
  ProcSource proc(std::string(FAULTLINE_SOURCE) + "/fixtures/proc/busy", "/");
  MetricsCollector collector(proc, clock, {[] { return 42ms; }});
  const MetricsData m = collector.collect();
  EXPECT_DOUBLE_EQ(m.cpu_usage, 80.0) << "8000 of 10000 jiffies busy since boot";
  EXPECT_DOUBLE_EQ(m.memory_usage, 85.0) << "2.4 of 16 GB available";
  EXPECT_GT(m.disk_usage, 0.0);
  EXPECT_LE(m.disk_usage, 100.0);
  EXPECT_EQ(m.response_time_ms, 42);
  EXPECT_EQ(m.timestamp, clock.wall_now());
}

TEST(Monitoring, CpuIsTheBusyShareSinceThePreviousCollection) {
  FAULTLINE_COVERS("UT-INFRA-04.1");
  ManualClock clock;
  FakeSource src;
  src.memory(50);
  src.next.disk_total_bytes = 100;
  src.next.disk_free_bytes = 25;
  MetricsCollector collector(src, clock);
  src.spend(1000, 900);
  EXPECT_DOUBLE_EQ(collector.collect().cpu_usage, 90.0);
  src.spend(2000, 500);
  const auto m = collector.collect();
  EXPECT_DOUBLE_EQ(m.cpu_usage, 25.0);
  EXPECT_DOUBLE_EQ(m.memory_usage, 50.0);
  EXPECT_DOUBLE_EQ(m.disk_usage, 75.0);
}

TEST(Monitoring, MalformedProcTextIsAnErrorNotAGuess) {
  SystemSample s;
  EXPECT_THROW(parse_proc_stat("intr 0\n", s), Error);
  EXPECT_THROW(parse_proc_stat("cpu 1 2\n", s), Error);
  EXPECT_THROW(parse_meminfo("MemTotal: 5 kB\n", s), Error);
}

// UT-INFRA-08.3 (/metrics served over HTTP) is proven in suites/req_infra_08.
TEST(Monitoring, ExposesPrometheusTextWithTheSeedsNamingConvention) {
  ManualClock clock;
  FakeSource src;
  src.memory(40);
  src.spend(100, 10);
  MetricsCollector collector(src, clock);
  AlertManager alerts(clock);
  MonitoringService service(clock, collector, alerts);
  service.tick();
  const auto families = parse_prometheus_text(service.exposition());
  ASSERT_GE(families.size(), 6u);
  for (const auto& f : families) {
    EXPECT_TRUE(follows_naming_convention(f.name)) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    EXPECT_TRUE(f.type == "gauge" || f.type == "counter") << f.name;
  }
  EXPECT_EQ(families[1].name, "faultline_system_memory_usage_percent");
  EXPECT_DOUBLE_EQ(families[1].samples[0].value, 40.0);
  EXPECT_FALSE(follows_naming_convention("memory"));
  EXPECT_FALSE(follows_naming_convention("trading_orders_count"));
  EXPECT_TRUE(follows_naming_convention("trading_portfolio_equity_dollars_total"));
}

TEST(Monitoring, RendersAGrafanaDashboardForEveryMetric) {
  FAULTLINE_COVERS("UT-INFRA-04.3");
  ManualClock clock;
  FakeSource src;
  src.memory(40);
  MetricsCollector collector(src, clock);
  AlertManager alerts(clock);
  MonitoringService service(clock, collector, alerts);
  service.tick();
  const auto dash = service.render_dashboard();
  EXPECT_EQ(dash["uid"], "faultline-system");
  const auto families = service.metrics();
  ASSERT_EQ(dash["panels"].size(), families.size());
  std::set<int> ids;
  for (std::size_t i = 0; i < families.size(); ++i) {
    const auto& panel = dash["panels"][i];
    ids.insert(panel["id"].get<int>());
    const std::string expr = panel["targets"][0]["expr"];
    EXPECT_NE(expr.find(families[i].name), std::string::npos) << expr;
    EXPECT_EQ(panel["datasource"]["type"], "prometheus");
    EXPECT_GT(panel["gridPos"]["w"].get<int>(), 0);
    if (families[i].name.ends_with("_percent")) {
      EXPECT_EQ(panel["fieldConfig"]["defaults"]["unit"], "percent");
    }
    if (families[i].type == "counter") {
      EXPECT_EQ(expr.rfind("rate(", 0), 0u) << expr;
    }
  }
  EXPECT_EQ(ids.size(), families.size()) << "panel ids are unique";
}

TEST(Monitoring, ACollectionFailureIsHandledAlertedAndResolved) {
  FAULTLINE_COVERS("ET-INFRA-04.1");
  ManualClock clock;
  Journal journal(clock);
  FakeSource src;
  src.memory(30);
  MetricsCollector collector(src, clock);
  AlertManager alerts(clock, &journal);
  auto file = std::filesystem::temp_directory_path() /
              ("faultline-alerts-" + std::to_string(::getpid()) + ".jsonl");
  alerts.add_notifier(file_notifier(file));
  log::configure({.level = log::Level::off});
  MonitoringService service(clock, collector, alerts, &journal, {.interval = 10s});
  service.tick();
  src.fail = true;
  EXPECT_FALSE(service.collect_metrics().has_value());
  clock.advance(10s);
  service.tick();
  src.fail = false;
  clock.advance(10s);
  service.tick();
  log::configure({});
  std::ifstream in(file);
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  std::filesystem::remove(file);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["alertname"], "MetricsCollectionFailed");
  EXPECT_EQ(lines[0]["status"], "firing");
  EXPECT_EQ(lines[1]["status"], "resolved");
  const auto families = parse_prometheus_text(service.exposition());
  for (const auto& f : families) {
    if (f.name == "faultline_monitoring_collection_errors_total") {
      EXPECT_EQ(f.samples[0].value, 2);
    }
  }
}

// Known loads in, the same figures out (within the seed's 5%); and whatever the collection
// interval up to 30 s and whenever the condition starts, its alert is delivered within 30 s of it.
TEST(MonitoringProperty, MetricsWithinFivePercentAndAlertsWithinThirtySeconds) {
  FAULTLINE_COVERS("PT-INFRA-04.1");
  log::configure({.level = log::Level::off});
  faultline::testing::check_property([] {
    ManualClock clock;
    Journal journal(clock);
    FakeSource src;
    const double base_mem = *rc::gen::inRange(5, 70);
    src.memory(base_mem);
    MetricsCollector collector(src, clock);
    // Accuracy: random busy shares per collection.
    for (int i = 0; i < 5; ++i) {
      const auto total = static_cast<std::uint64_t>(*rc::gen::inRange(100, 100000));
      const auto busy = static_cast<std::uint64_t>(*rc::gen::inRange<std::uint64_t>(0, total + 1));
      src.spend(total, busy);
      const double truth = 100.0 * static_cast<double>(busy) / static_cast<double>(total);
      const auto m = collector.collect();
      RC_ASSERT(std::abs(m.cpu_usage - truth) <= 5.0);
      RC_ASSERT(std::abs(m.memory_usage - base_mem) <= 5.0);
    }
    // Latency: memory jumps over 90% at a random instant.
    const auto interval = std::chrono::seconds(*rc::gen::inRange(1, 31));
    const auto onset = std::chrono::milliseconds(*rc::gen::inRange(0, 600'000));
    const TimePoint start = clock.now();
    src.before_sample = [&](SystemSample& s) {
      const double used = clock.now() - start >= onset ? 95.0 : base_mem;
      s.mem_available_kb = static_cast<std::uint64_t>(16'000'000.0 * (100.0 - used) / 100.0);
    };
    AlertManager alerts(clock, &journal);
    MonitoringService service(clock, collector, alerts, &journal, {.interval = interval});
    service.run_for(std::chrono::minutes(11));
    std::optional<std::int64_t> delivered_ns;
    for (const auto& e : journal.events()) {
      if (e.kind == "alert.delivered" && e.subject == "MemoryUsageCritical") {
        delivered_ns = e.sim_ns;
        break;
      }
    }
    RC_ASSERT(delivered_ns.has_value());
    const auto latency =
        std::chrono::nanoseconds(*delivered_ns) - (start.time_since_epoch() + onset);
    RC_ASSERT(latency >= Duration::zero());
    RC_ASSERT(latency <= std::chrono::seconds(30));
  });
  log::configure({});
}

}  // namespace
}  // namespace faultline::ops
