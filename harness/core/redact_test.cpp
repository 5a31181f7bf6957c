#include "harness/core/redact.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/testing/covers.h"

namespace faultline {
namespace {

TEST(Redactor, SecretNamesAreRecognised) {
  for (auto name : {"DB_PASSWORD", "GRAFANA_PASSWORD", "api_key", "AWS_SECRET_ACCESS_KEY",
                    "GITHUB_TOKEN", "REPLICATION_PASSWORD", "ClientSecret"}) {
    EXPECT_TRUE(Redactor::is_secret_name(name)) << name;
  }
  for (auto name : {"PATH", "HOME", "DB_USER", "FAULTLINE_SEED"}) {
    EXPECT_FALSE(Redactor::is_secret_name(name)) << name;
  }
}

TEST(Redactor, TakesSecretValuesFromTheEnvironment) {
  FAULTLINE_COVERS("UT-INFRA-08.2");
  std::string a = "DB_PASSWORD=hunter2hunter2", b = "DB_USER=trader", c = "API_TOKEN=tok-123456",
              d = "SHORT_KEY=ab";
  char* env[] = {a.data(), b.data(), c.data(), d.data(), nullptr};
  Redactor r = Redactor::from_environment(env);
  EXPECT_EQ(r.size(), 2u) << "two secrets; DB_USER is not one and 'ab' is too short to be one";
  const std::string out = r.redact("login trader/hunter2hunter2 with tok-123456");
  EXPECT_EQ(out, "login trader/[redacted] with [redacted]");
}

TEST(Redactor, RedactsEveryOccurrenceAndLongestFirst) {
  Redactor r;
  r.add("abc");
  r.add("abcdef");
  EXPECT_EQ(r.redact("abcdef abc abcabc"), "[redacted] [redacted] [redacted][redacted]");
  EXPECT_EQ(r.redact("nothing here"), "nothing here");
}

TEST(Redactor, RedactsInsideJsonKeysAndNestedValues) {
  FAULTLINE_COVERS("ET-INFRA-08.2");
  Redactor r;
  r.add("s3cr3t!");
  nlohmann::json j = {{"url", "redis://:s3cr3t!@localhost:6379"},
                      {"list", {"x", "s3cr3t!"}},
                      {"nested", {{"s3cr3t!", {{"deeper", "error: s3cr3t! rejected"}}}}},
                      {"n", 5}};
  r.redact_json(j);
  const std::string dumped = j.dump();
  EXPECT_EQ(dumped.find("s3cr3t!"), std::string::npos) << dumped;
  EXPECT_EQ(j["n"], 5);
  EXPECT_EQ(j["url"], "redis://:[redacted]@localhost:6379");
}

}  // namespace
}  // namespace faultline
