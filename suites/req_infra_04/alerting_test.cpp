// REQ-INFRA-04 alerting in fake mode: a threshold crossing notifies operators (log, file, an
// HTTP webhook received on loopback), and alert spam is deduplicated, cooled down and
// rate-limited — all on the simulated clock.
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <fstream>
#include <future>
#include <thread>

#include "harness/core/log.h"
#include "harness/ops/monitoring_service.h"
#include "harness/testing/covers.h"
#include "suites/req_infra_04/fake_source.h"

namespace faultline::ops {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::tcp;
using faultline::ops::testing::FakeSource;

// A one-request HTTP receiver on 127.0.0.1: answers 200 and hands back the body.
class WebhookReceiver {
 public:
  WebhookReceiver() : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      try {
        tcp::socket socket(io_);
        acceptor_.accept(socket);
        boost::asio::streambuf buf;
        const auto header_end = boost::asio::read_until(socket, buf, "\r\n\r\n");
        std::string data(boost::asio::buffers_begin(buf.data()),
                         boost::asio::buffers_end(buf.data()));
        std::string headers = data.substr(0, header_end);
        std::size_t length = 0;
        for (auto pos = headers.find("ontent-Length: "); pos != std::string::npos;) {
          length = std::stoul(headers.substr(pos + 15));
          break;
        }
        std::string body = data.substr(header_end);
        while (body.size() < length) {
          char chunk[4096];
          const auto n = socket.read_some(boost::asio::buffer(chunk));
          body.append(chunk, n);
        }
        const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        boost::asio::write(socket, boost::asio::buffer(reply));
        body_.set_value(body);
      } catch (const std::exception& e) {
        body_.set_value(std::string("receiver error: ") + e.what());
      }
    });
  }
  ~WebhookReceiver() {
    // Wake a thread still blocked in accept() with a connection of our own (closing the acceptor
    // from this thread would race with it), then join it; the acceptor closes after that.
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);
    wake.close(ec);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  std::future<std::string> body() { return body_.get_future(); }

 private:
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::promise<std::string> body_;
  std::thread thread_;
};

Alert alert(const std::string& name, std::map<std::string, std::string> labels = {}) {
  Alert a;
  a.rule = name;
  a.labels = std::move(labels);
  a.labels["alertname"] = name;
  return a;
}

TEST(Alerting, AThresholdCrossedForItsDurationNotifiesOperators) {
  FAULTLINE_COVERS("UT-INFRA-04.2");
  ManualClock clock;
  Journal journal(clock);
  FakeSource src;
  src.memory(50);
  MetricsCollector collector(src, clock);
  AlertManager alerts(clock, &journal);
  WebhookReceiver receiver;
  auto body = receiver.body();
  const auto file = std::filesystem::temp_directory_path() /
                    ("faultline-alerting-" + std::to_string(::getpid()) + ".jsonl");
  alerts.add_notifier(file_notifier(file));
  alerts.add_notifier(webhook_notifier("127.0.0.1", receiver.port(), "/alerts"));
  std::ostringstream log_lines;
  log::configure({log::Format::json, log::Level::info, &log_lines});
  alerts.add_notifier(log_notifier());
  AlertRule rule{"MemoryPressure",   "memory_usage",      AlertRule::Op::above,      80, 30s,
                 Severity::critical, {{"team", "infra"}}, "memory above 80% for 30s"};
  MonitoringService service(clock, collector, alerts, &journal, {.interval = 10s, .rules = {rule}});
  service.run_for(30s);
  EXPECT_EQ(alerts.counts().delivered, 0) << "below the threshold";
  src.memory(88);
  service.run_for(30s);
  EXPECT_EQ(alerts.counts().delivered, 0) << "above it, but not yet for 30 s";
  service.run_for(20s);
  EXPECT_EQ(alerts.counts().delivered, 1);
  log::configure({});

  std::ifstream in(file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["alertname"], "MemoryPressure");
  EXPECT_EQ(j["severity"], "critical");
  EXPECT_EQ(j["labels"]["team"], "infra");
  EXPECT_NEAR(j["value"].get<double>(), 88.0, 0.01);
  std::filesystem::remove(file);
  ASSERT_EQ(body.wait_for(30s), std::future_status::ready);
  const auto hook = nlohmann::json::parse(body.get());
  EXPECT_EQ(hook["status"], "firing");
  EXPECT_EQ(hook["alerts"][0]["labels"]["alertname"], "MemoryPressure");
  EXPECT_NE(log_lines.str().find("MemoryPressure firing"), std::string::npos);
}

TEST(Alerting, AWebhookThatIsDownIsCountedNotFatal) {
  ManualClock clock;
  AlertManager alerts(clock);
  int port = 0;
  {
    WebhookReceiver closed;  // take a free port, then close it
    port = closed.port();
  }
  alerts.add_notifier(webhook_notifier("127.0.0.1", port, "/alerts"));
  log::configure({.level = log::Level::off});
  EXPECT_EQ(alerts.submit(alert("Down")), AlertManager::Decision::delivered);
  log::configure({});
  EXPECT_EQ(alerts.counts().failures, 1);
}

TEST(Alerting, SpamIsDeduplicatedCooledDownAndRateLimited) {
  FAULTLINE_COVERS("ET-INFRA-04.2");
  ManualClock clock;
  AlertManager alerts(clock, nullptr, {.cooldown = 300s, .rate_limit = 10, .rate_window = 60s});
  // The same alert a thousand times in a minute: one notification.
  for (int i = 0; i < 1000; ++i) {
    alerts.submit(alert("DatabaseConnectionFailed", {{"service", "postgres"}}));
    clock.advance(60ms);
  }
  EXPECT_EQ(alerts.counts().delivered, 1);
  EXPECT_EQ(alerts.counts().duplicates, 999);
  // Different labels are a different alert.
  EXPECT_EQ(alerts.submit(alert("DatabaseConnectionFailed", {{"service", "timescale"}})),
            AlertManager::Decision::delivered);
  // Flapping inside the cooldown stays quiet; after it, the alert is sent again.
  Alert resolved = alert("DatabaseConnectionFailed", {{"service", "postgres"}});
  resolved.resolved = true;
  EXPECT_EQ(alerts.submit(resolved), AlertManager::Decision::resolved);
  EXPECT_EQ(alerts.submit(alert("DatabaseConnectionFailed", {{"service", "postgres"}})),
            AlertManager::Decision::cooling_down);
  clock.advance(300s);
  EXPECT_EQ(alerts.submit(alert("DatabaseConnectionFailed", {{"service", "postgres"}})),
            AlertManager::Decision::delivered);
  // A storm of distinct alerts: at most 10 a minute get through.
  int delivered = 0, limited = 0;
  for (int i = 0; i < 50; ++i) {
    const auto d = alerts.submit(alert("HighErrorRate", {{"route", std::to_string(i)}}));
    delivered += d == AlertManager::Decision::delivered;
    limited += d == AlertManager::Decision::rate_limited;
  }
  EXPECT_EQ(delivered, 9) << "the repeat sent just before used 1 of this minute's 10";
  EXPECT_EQ(limited, 41);
  clock.advance(60s);
  EXPECT_EQ(alerts.submit(alert("HighErrorRate", {{"route", "20"}})),
            AlertManager::Decision::delivered)
      << "a rate-limited alert goes out once the window has room";
}

TEST(Alerting, BadConfigurationIsRejected) {
  ManualClock clock;
  EXPECT_THROW(AlertManager(clock, nullptr, {.rate_limit = 0}), InputError);
  FakeSource src;
  MetricsCollector collector(src, clock);
  AlertManager alerts(clock);
  EXPECT_THROW(MonitoringService(clock, collector, alerts, nullptr, {.interval = 0s}), InputError);
}

}  // namespace
}  // namespace faultline::ops
