// PT-INFRA-08.1 as two RapidCheck properties:
//   1. every log line written through faultline::log, for generated events (level, component,
//      message, nested fields) into which known secrets are planted anywhere — in a message, a
//      nested JSON value or key, an exception text, a URL's userinfo or query — is valid JSON,
//      has a level of DEBUG, INFO, WARN or ERROR (spelled lower-case by the logger), and contains
//      no secret value;
//   2. every service of a generated stack (1..3 Redis, 1..2 PostgreSQL and 0..1 Kafka services
//      with generated names, brought up on the fake backend by StackSession) answers /health
//      with 200 and /metrics with Prometheus text whose names follow the naming convention.
#include <stdlib.h>

#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/backends/stack_session.h"
#include "harness/core/log.h"
#include "harness/core/redact.h"
#include "harness/ops/exposition.h"
#include "harness/testing/covers.h"
#include "harness/testing/net_testing.h"
#include "harness/testing/process_testing.h"
#include "harness/testing/property.h"

namespace faultline::ops {
namespace {

FAULTLINE_RUN_DIRECTORY_ENVIRONMENT("req_infra_08_property");

// The known secrets: environment variables whose names mark them secret.
const std::vector<std::string>& secrets() {
  static const std::vector<std::string> values = {
      "sk_live_51HqLyjWDarjtT1zdp7dc", "hunter2-db-password-77", "DE89370400440532013000",
      "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "eyJhbGciOiJIUzI1NiJ9.canary.sig"};
  return values;
}
[[maybe_unused]] const bool secrets_set = [] {
  const char* names[] = {"PT08_API_KEY", "PT08_DB_PASSWORD", "PT08_ACCOUNT_SECRET",
                         "PT08_GITHUB_TOKEN", "PT08_SESSION_TOKEN"};
  for (std::size_t i = 0; i < secrets().size(); ++i) ::setenv(names[i], secrets()[i].c_str(), 1);
  return true;
}();

void register_secrets() {
  for (const char* name : {"PT08_API_KEY", "PT08_DB_PASSWORD", "PT08_ACCOUNT_SECRET",
                           "PT08_GITHUB_TOKEN", "PT08_SESSION_TOKEN"}) {
    Redactor::process().add(std::getenv(name));
  }
}

// A string that may carry a secret somewhere inside, as an exception text or a URL would.
rc::Gen<std::string> text_with_secret() {
  return rc::gen::apply(
      [](std::string prefix, std::string suffix, bool plant, std::size_t which, int shape) {
        if (!plant) return prefix + suffix;
        const std::string& s = secrets()[which % secrets().size()];
        switch (shape % 4) {
          case 0:
            return prefix + s + suffix;
          case 1:
            return "connect failed: password authentication failed for '" + s + "'" + suffix;
          case 2:
            return "postgresql://trader:" + s + "@127.0.0.1:5432/trading?" + prefix;
          default:
            return "https://api.example/v1?key=" + s + "&" + suffix;
        }
      },
      rc::gen::arbitrary<std::string>(), rc::gen::arbitrary<std::string>(),
      rc::gen::arbitrary<bool>(), rc::gen::arbitrary<std::size_t>(), rc::gen::inRange(0, 4));
}

rc::Gen<nlohmann::json> fields_gen() {
  return rc::gen::apply(
      [](std::vector<std::pair<std::string, std::string>> flat, std::string nested_key,
         std::string nested_value, int number) {
        nlohmann::json f = nlohmann::json::object();
        for (auto& [k, v] : flat) f[k] = v;
        f["nested"] = {{"deeper", {{nested_key, nested_value}}}, {"n", number}};
        f["list"] = nlohmann::json::array({nested_value, number});
        return f;
      },
      rc::gen::container<std::vector<std::pair<std::string, std::string>>>(
          rc::gen::pair(text_with_secret(), text_with_secret())),
      text_with_secret(), text_with_secret(), rc::gen::arbitrary<int>());
}

struct Event {
  log::Level level;
  std::string component, message;
  nlohmann::json fields;
  std::string correlation;
};

TEST(LogProperty, EveryLineIsJsonWithAKnownLevelAndNoSecret) {
  FAULTLINE_COVERS("PT-INFRA-08.1");
  register_secrets();
  faultline::testing::check_property([] {
    const auto events =
        *rc::gen::container<std::vector<Event>>(
            rc::gen::apply(
                [](int level, std::string component, std::string message, nlohmann::json fields,
                   std::string correlation) {
                  const log::Level levels[] = {log::Level::debug, log::Level::info,
                                               log::Level::warn, log::Level::error};
                  return Event{levels[level], std::move(component), std::move(message),
                               std::move(fields), std::move(correlation)};
                },
                rc::gen::inRange(0, 4), text_with_secret(), text_with_secret(), fields_gen(),
                text_with_secret()));
    std::ostringstream out;
    log::configure({log::Format::json, log::Level::debug, &out});
    for (const auto& e : events) {
      log::CorrelationScope scope(e.correlation);
      log::write(e.level, e.component, e.message, e.fields);
    }
    log::configure({});
    std::istringstream in(out.str());
    std::size_t n = 0;
    for (std::string line; std::getline(in, line); ++n) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const std::exception& e) {
        RC_FAIL("not JSON: " + line + " (" + e.what() + ")");
      }
      std::string level = j.value("level", "");
      for (char& c : level) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      RC_ASSERT((std::set<std::string>{"DEBUG", "INFO", "WARN", "ERROR"}.count(level) == 1));
      for (const auto& s : secrets()) RC_ASSERT(line.find(s) == std::string::npos);
    }
    RC_ASSERT(n == events.size());
  });
}

std::string service_name(const std::string& kind, int i) {
  return kind + "-" + std::to_string(i);
}

TEST(EndpointProperty, EveryServiceOfAGeneratedStackAnswersHealthAndMetrics) {
  FAULTLINE_COVERS("PT-INFRA-08.1");
  faultline::testing::check_property([] {
    const int redis = *rc::gen::inRange(1, 4);
    const int postgres = *rc::gen::inRange(1, 3);
    const int kafka = *rc::gen::inRange(0, 2);
    stack::Stack st;
    st.name = "generated";
    auto add = [&](stack::ServiceKind kind, int count) {
      for (int i = 0; i < count; ++i) {
        stack::Service s;
        s.kind = kind;
        s.name = service_name(std::string(stack::to_string(kind)), i);
        if (kind == stack::ServiceKind::kafka) s.settings = {{"brokers", "3"}};
        st.services.push_back(std::move(s));
      }
    };
    add(stack::ServiceKind::redis, redis);
    add(stack::ServiceKind::postgres, postgres);
    add(stack::ServiceKind::kafka, kafka);
    backends::StackSessionOptions options;
    options.backend = "fake";
    backends::StackSession session(faultline::testing::test_run_directory(), st, options);
    session.start();
    RC_ASSERT(session.exporter() != nullptr);
    RC_ASSERT(session.exporter()->urls().size() == session.stack().services.size());
    for (const auto& s : session.stack().services) {
      const std::uint16_t port = session.exporter()->port(s.name);
      const auto health = faultline::testing::http(port, "GET", "/health");
      RC_ASSERT(health.status == 200);
      RC_ASSERT(nlohmann::json::parse(health.body)["service"] == s.name);
      const auto metrics = faultline::testing::http(port, "GET", "/metrics");
      RC_ASSERT(metrics.status == 200);
      const auto families = parse_prometheus_text(metrics.body);
      RC_ASSERT(!families.empty());
      for (const auto& f : families) RC_ASSERT(follows_naming_convention(f.name));
    }
  });
}

}  // namespace
}  // namespace faultline::ops
