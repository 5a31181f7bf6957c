#include <gtest/gtest.h>

#include "harness/stack/stack.h"

namespace faultline::stack {
namespace {

using namespace std::chrono_literals;
const std::string kCompose = std::string(FAULTLINE_SOURCE) + "/fixtures/compose/";

LoadOptions no_env(std::vector<std::string> profiles = {}) {
  LoadOptions o;
  o.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  o.profiles = std::move(profiles);
  return o;
}

std::vector<std::vector<std::string>> names(const Stack& s) {
  std::vector<std::vector<std::string>> out;
  for (const auto& level : s.start_levels()) {
    out.emplace_back();
    for (const auto* svc : level) out.back().push_back(svc->name);
  }
  return out;
}

TEST(Compose, TheTradingStackLoadsWithKindsOrderAndDetails) {
  Stack s = load_compose(kCompose + "trading-stack.yml", no_env());
  EXPECT_EQ(s.name, "trading");
  EXPECT_EQ(s.services.size(), 6u) << "grafana is in an inactive profile";
  EXPECT_EQ(
      names(s),
      (std::vector<std::vector<std::string>>{
          {"postgres", "redis"}, {"trading_app"}, {"nginx", "prometheus"}, {"alertmanager"}}));
  const Service* pg = s.find("postgres");
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pg->kind, ServiceKind::postgres);
  EXPECT_EQ(pg->environment.at("POSTGRES_USER"), "trader") << "${DB_USER:-trader}";
  EXPECT_EQ(pg->setting("database"), "turtletrading");
  EXPECT_TRUE(pg->persistent);
  ASSERT_TRUE(pg->healthcheck);
  EXPECT_EQ(pg->healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "pg_isready -U trader"}));
  EXPECT_EQ(pg->healthcheck->timeout, 10s);
  EXPECT_EQ(pg->restart.mode, RestartPolicy::Mode::unless_stopped);
  const Service* redis = s.find("redis");
  EXPECT_EQ(redis->setting("maxmemory"), "512mb");
  EXPECT_EQ(redis->setting("maxmemory-policy"), "allkeys-lru");
  const Service* app = s.find("trading_app");
  EXPECT_EQ(app->kind, ServiceKind::container);
  ASSERT_EQ(app->depends_on.size(), 2u);
  EXPECT_EQ(app->depends_on[0].condition, Condition::healthy);
  EXPECT_EQ(app->limits.memory_bytes, 2ull << 30);
  EXPECT_EQ(app->limits.cpus, 2.0);
  EXPECT_EQ(app->restart.mode, RestartPolicy::Mode::on_failure);
  EXPECT_EQ(app->restart.max_retries, 3);
  EXPECT_EQ(app->environment.at("REDIS_URL"), "redis://redis:6379/0");
  EXPECT_EQ(s.find("nginx")->ports[1].host_port, 443);
  EXPECT_TRUE(s.warnings.empty()) << "every variable there has a default";
}

TEST(Compose, ProfilesSelectServices) {
  Stack s = load_compose(kCompose + "trading-stack.yml", no_env({"dashboards"}));
  EXPECT_NE(s.find("grafana"), nullptr);
  EXPECT_EQ(s.services.size(), 7u);
}

TEST(Compose, TheSeedsClustersLoad) {
  Stack kafka = load_compose(kCompose + "kafka.yml", no_env());
  EXPECT_EQ(names(kafka), (std::vector<std::vector<std::string>>{
                              {"zookeeper"}, {"kafka-1", "kafka-2", "kafka-3"}}));
  EXPECT_EQ(kafka.find("kafka-2")->kind, ServiceKind::kafka);
  EXPECT_EQ(kafka.find("kafka-2")->setting("broker-id"), "2");
  Stack ts = load_compose(kCompose + "timescale.yml", no_env());
  EXPECT_EQ(ts.services.size(), 3u);
  EXPECT_EQ(ts.find("timescaledb-replica-2")->depends_on[0].condition, Condition::healthy);
  Stack redis = load_compose(kCompose + "redis.yml", no_env());
  EXPECT_EQ(redis.find("redis-primary")->setting("maxmemory"), "128gb");
  EXPECT_EQ(redis.find("redis-primary")->command.back(), "yes");
  Stack mon = load_compose(kCompose + "monitoring.yml", no_env());
  EXPECT_EQ(mon.find("trainer")->kind, ServiceKind::gpu);
  EXPECT_EQ(mon.find("redis-exporter"), nullptr);
}

struct BadCompose {
  const char* name;
  const char* text;
  int line;
  const char* message;
};

class BrokenCompose : public ::testing::TestWithParam<BadCompose> {};

TEST_P(BrokenCompose, NamesFileAndLine) {
  const auto& b = GetParam();
  try {
    parse_compose(b.text, "docker-compose.yml", no_env());
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().file, "docker-compose.yml");
    EXPECT_EQ(e.where().line, b.line) << e.what();
    EXPECT_NE(std::string(e.what()).find(b.message), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Compose, BrokenCompose,
    ::testing::Values(
        BadCompose{"unknown_key", "services:\n  db:\n    image: postgres\n    depend_on: [x]\n", 4,
                   "unknown key 'depend_on' in service 'db' (did you mean 'depends_on'?)"},
        BadCompose{"missing_dependency",
                   "services:\n  app:\n    image: a\n    depends_on:\n      - db\n", 5,
                   "service 'app' depends on 'db', which is not defined"},
        BadCompose{"cycle",
                   "services:\n  a:\n    image: a\n    depends_on: [b]\n  b:\n    image: b\n"
                   "    depends_on: [c]\n  c:\n    image: c\n    depends_on: [a]\n",
                   10, "dependency cycle: a -> b -> c -> a"},
        BadCompose{"bad_duration",
                   "services:\n  r:\n    image: redis\n    healthcheck:\n      test: [\"CMD\", "
                   "\"redis-cli\", \"ping\"]\n      interval: 5 minutes\n",
                   6, "'interval': '5 minutes' is not a duration"},
        BadCompose{"bad_size",
                   "services:\n  r:\n    image: redis\n    deploy:\n      resources:\n        "
                   "limits:\n          memory: lots\n",
                   7, "'memory': 'lots' is not a size"},
        BadCompose{"bad_condition",
                   "services:\n  a:\n    image: a\n    depends_on:\n      b:\n        condition: "
                   "healthy\n  b:\n    image: b\n",
                   6, "unknown condition 'healthy'"},
        BadCompose{"bad_restart", "services:\n  a:\n    image: a\n    restart: sometimes\n", 4,
                   "unknown restart policy 'sometimes'"},
        BadCompose{"bad_port", "services:\n  a:\n    image: a\n    ports: [\"80:80:80:80\"]\n", 4,
                   "bad port mapping"},
        BadCompose{"no_services", "version: '3.8'\n", 1, "'services' must be a non-empty mapping"},
        BadCompose{"yaml", "services:\n  a: [\n", 3, ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Compose, TheSeedsOwnSnippetNamesItsMissingServices) {
  // Seed 002's nginx depends on backend and frontend, which its snippet never defines.
  const char* text =
      "services:\n  nginx:\n    image: nginx:alpine\n    depends_on:\n      - backend\n"
      "      - frontend\n";
  EXPECT_THROW(parse_compose(text, "seed.yml", no_env()), InputError);
}

}  // namespace
}  // namespace faultline::stack
