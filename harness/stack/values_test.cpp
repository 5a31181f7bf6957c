#include "harness/stack/values.h"

#include <gtest/gtest.h>

#include "harness/core/redact.h"
#include "harness/stack/yaml_values.h"

namespace faultline::stack {
namespace {

using namespace std::chrono_literals;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Interpolate, ComposeForms) {
  auto env = env_of({{"USER", "trader"}, {"EMPTY", ""}});
  std::vector<std::string> warnings;
  SourceLocation at{"f.yml", 3};
  EXPECT_EQ(interpolate("u=$USER ${USER}", env, at, &warnings), "u=trader trader");
  EXPECT_EQ(interpolate("${EMPTY:-dflt}|${EMPTY-dflt}|${NOPE-dflt}", env, at, &warnings),
            "dflt||dflt");
  EXPECT_EQ(interpolate("cost $$5 and a lone $ sign", env, at, &warnings),
            "cost $5 and a lone $ sign");
  EXPECT_EQ(interpolate("${NESTED:-${USER}}", env, at, &warnings), "trader");
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(interpolate("x${MISSING}y", env, at, &warnings), "xy");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("f.yml:3: variable MISSING is not set"), std::string::npos);
}

TEST(Interpolate, ErrorsNameThePlace) {
  auto env = env_of({});
  SourceLocation at{"f.yml", 7, 5};
  try {
    interpolate("${DB_PASSWORD:?set it in the environment}", env, at, nullptr);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().line, 7);
    EXPECT_NE(std::string(e.what()).find("DB_PASSWORD is not set: set it"), std::string::npos);
  }
  EXPECT_THROW(interpolate("${UNCLOSED", env, at, nullptr), InputError);
  EXPECT_THROW(interpolate("${A:x}", env, at, nullptr), InputError);
}

TEST(Interpolate, SecretValuesAreRegisteredForRedaction) {
  auto env = env_of({{"STACK_TEST_PASSWORD", "pw-from-env-7731"}});
  interpolate("${STACK_TEST_PASSWORD}", env, {}, nullptr);
  EXPECT_EQ(redact("dsn with pw-from-env-7731"), "dsn with [redacted]");
}

TEST(Durations, ComposeSyntax) {
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("1m30s"), 90s);
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("2h"), 2h);
  EXPECT_EQ(parse_duration("10"), 10s);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("10 s"));
  EXPECT_FALSE(parse_duration("5 minutes"));
  EXPECT_FALSE(parse_duration("1m30"));
  EXPECT_FALSE(parse_duration("-1s"));
}

TEST(Sizes, RedisAndComposeSyntax) {
  EXPECT_EQ(parse_size("512mb"), 512ull << 20);
  EXPECT_EQ(parse_size("1g"), 1ull << 30);
  EXPECT_EQ(parse_size("2GiB"), 2ull << 30);
  EXPECT_EQ(parse_size("100k"), 100ull << 10);
  EXPECT_EQ(parse_size("1024"), 1024u);
  EXPECT_FALSE(parse_size("lots"));
  EXPECT_FALSE(parse_size("12q"));
}

TEST(SplitWords, LikeAShell) {
  EXPECT_EQ(split_words("redis-server --maxmemory 512mb"),
            (std::vector<std::string>{"redis-server", "--maxmemory", "512mb"}));
  EXPECT_EQ(split_words(R"(sh -c 'echo "a b"' x\ y "q\"q")"),
            (std::vector<std::string>{"sh", "-c", "echo \"a b\"", "x y", "q\"q"}));
  EXPECT_FALSE(split_words("echo 'unclosed"));
}

TEST(ImageKinds, MapToServiceKinds) {
  EXPECT_EQ(kind_of_image("postgres:15"), ServiceKind::postgres);
  EXPECT_EQ(kind_of_image("timescale/timescaledb-ha:pg15"), ServiceKind::postgres);
  EXPECT_EQ(kind_of_image("redis:7-alpine"), ServiceKind::redis);
  EXPECT_EQ(kind_of_image("oliver006/redis_exporter:latest"), ServiceKind::container);
  EXPECT_EQ(kind_of_image("confluentinc/cp-kafka:7.5.0"), ServiceKind::kafka);
  EXPECT_EQ(kind_of_image("bitnami/kafka"), ServiceKind::kafka);
  EXPECT_EQ(kind_of_image("redpandadata/redpanda:v23.2"), ServiceKind::kafka);
  EXPECT_EQ(kind_of_image("nvidia/cuda:12.2.0-runtime-ubuntu22.04"), ServiceKind::gpu);
  EXPECT_EQ(kind_of_image("docker:24-dind"), ServiceKind::docker);
  EXPECT_EQ(kind_of_image("registry.local:5000/team/postgres:15"), ServiceKind::postgres);
  EXPECT_EQ(kind_of_image("nginx:alpine"), ServiceKind::container);
}

}  // namespace
}  // namespace faultline::stack
