#include <gtest/gtest.h>

#include "harness/stack/stack.h"

namespace faultline::stack {
namespace {

const std::string kStacks = std::string(FAULTLINE_SOURCE) + "/fixtures/stacks/";

TEST(StackFile, TheDefaultStack) {
  Stack s = load_stack_file(kStacks + "default.yaml");
  EXPECT_EQ(s.name, "default");
  ASSERT_EQ(s.services.size(), 5u);
  EXPECT_EQ(s.find("postgres")->kind, ServiceKind::postgres);
  EXPECT_TRUE(s.find("postgres")->persistent);
  EXPECT_EQ(s.find("postgres")->setting("max-connections"), "100");
  EXPECT_EQ(s.find("redis")->setting("maxmemory-policy"), "allkeys-lru");
  EXPECT_EQ(s.find("kafka")->setting("brokers"), "3");
  EXPECT_EQ(s.find("kafka")->setting("replication-factor"), "2");
  EXPECT_EQ(s.find("gpu")->setting("devices"), "2");
  EXPECT_EQ(s.find("docker")->kind, ServiceKind::docker);
  EXPECT_EQ(s.start_levels().size(), 1u) << "no dependencies: everything starts at once";
}

TEST(StackFile, DependenciesOrderTheLevels) {
  Stack s = parse_stack_file(
      "stack: t\nservices:\n  app:\n    image: app\n    depends_on:\n      db:\n        "
      "condition: service_healthy\n  db:\n    kind: postgres\n",
      "t.yaml");
  auto levels = s.start_levels();
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_EQ(levels[0][0]->name, "db");
  EXPECT_EQ(levels[1][0]->name, "app");
}

struct BadStack {
  const char* name;
  const char* text;
  int line;
  const char* message;
};

class BrokenStack : public ::testing::TestWithParam<BadStack> {};

TEST_P(BrokenStack, NamesFileAndLine) {
  const auto& b = GetParam();
  try {
    parse_stack_file(b.text, "stack.yaml");
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().line, b.line) << e.what();
    EXPECT_NE(std::string(e.what()).find(b.message), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    StackFile, BrokenStack,
    ::testing::Values(
        BadStack{"unknown_kind", "stack: t\nservices:\n  r:\n    kind: redsi\n", 4,
                 "unknown kind 'redsi' (did you mean 'redis'?)"},
        BadStack{"unknown_setting",
                 "stack: t\nservices:\n  r:\n    kind: redis\n    settings:\n      maxmemroy: 1g\n",
                 6,
                 "unknown key 'maxmemroy' in the settings of a redis service (did you mean "
                 "'maxmemory'?)"},
        BadStack{"bad_policy",
                 "stack: t\nservices:\n  r:\n    kind: redis\n    settings:\n      "
                 "maxmemory-policy: allkeys-lur\n",
                 6, "unknown maxmemory-policy 'allkeys-lur' (did you mean 'allkeys-lru'?)"},
        BadStack{"replication_factor",
                 "stack: t\nservices:\n  k:\n    kind: kafka\n    settings:\n      brokers: 2\n"
                 "      replication-factor: 3\n",
                 6, "replication-factor 3 is more than the 2 broker(s)"},
        BadStack{"no_kind", "stack: t\nservices:\n  x:\n    command: run\n", 4,
                 "needs a 'kind' or an 'image'"},
        BadStack{"self_cycle", "stack: t\nservices:\n  x:\n    kind: redis\n    depends_on: [x]\n",
                 5, "dependency cycle: x -> x"},
        BadStack{"no_name", "services:\n  x:\n    kind: redis\n", 1, "has no 'stack'"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace faultline::stack
