#include "harness/core/log.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/core/error.h"
#include "harness/core/redact.h"
#include "harness/testing/covers.h"

namespace faultline {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { log::configure({}); }
  std::vector<std::string> lines() {
    std::vector<std::string> out;
    std::istringstream in(stream_.str());
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  std::ostringstream stream_;
};

TEST_F(LogTest, JsonFormatIsOneObjectPerLineWithCorrelationId) {
  FAULTLINE_COVERS("UT-INFRA-08.1");
  log::configure({log::Format::json, log::Level::debug, &stream_});
  {
    log::CorrelationScope cid("req-7f3a");
    log::info("pool", "connection acquired", {{"active", 3}, {"max", 30}});
  }
  log::warn("proxy", "upstream refused\nretrying");
  auto l = lines();
  ASSERT_EQ(l.size(), 2u) << "a newline inside a message stays inside its JSON string";
  auto first = nlohmann::json::parse(l[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["component"], "pool");
  EXPECT_EQ(first["message"], "connection acquired");
  EXPECT_EQ(first["fields"]["active"], 3);
  EXPECT_EQ(first["correlation_id"], "req-7f3a");
  EXPECT_TRUE(first["ts"].get<std::string>().ends_with("Z"));
  auto second = nlohmann::json::parse(l[1]);
  EXPECT_EQ(second["level"], "warn");
  EXPECT_FALSE(second.contains("correlation_id")) << "the scope ended";
}

TEST_F(LogTest, HumanFormatAndLevels) {
  log::configure({log::Format::human, log::Level::warn, &stream_});
  log::info("x", "hidden");
  log::error("stack", "postgres did not become healthy", {{"service", "db"}});
  auto l = lines();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_NE(l[0].find("error [stack] postgres did not become healthy service=db"),
            std::string::npos)
      << l[0];
}

TEST_F(LogTest, SecretsNeverReachALogLine) {
  FAULTLINE_COVERS("UT-INFRA-08.2", "ET-INFRA-08.2");
  Redactor::process().add("pa55w0rd-log-test");
  for (auto format : {log::Format::json, log::Format::human}) {
    stream_.str("");
    log::configure({format, log::Level::info, &stream_});
    log::CorrelationScope cid("pa55w0rd-log-test");
    log::info("db", "connecting with pa55w0rd-log-test",
              {{"dsn", "postgres://app:pa55w0rd-log-test@127.0.0.1/db"},
               {"nested", {{"err", "password pa55w0rd-log-test rejected"}}}});
    const std::string out = stream_.str();
    EXPECT_EQ(out.find("pa55w0rd-log-test"), std::string::npos) << out;
    EXPECT_NE(out.find("[redacted]"), std::string::npos) << out;
  }
}

TEST_F(LogTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
  EXPECT_EQ(log::parse_format("json"), log::Format::json);
  EXPECT_THROW(log::parse_level("loud"), UsageError);
  EXPECT_THROW(log::parse_format("xml"), UsageError);
}

}  // namespace
}  // namespace faultline
