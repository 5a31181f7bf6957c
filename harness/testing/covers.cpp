#include "harness/testing/covers.h"

#include <cstdlib>
#include <optional>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "harness/core/error.h"
#include "harness/testing/property.h"

namespace faultline::testing {
namespace {

std::optional<std::uint64_t> g_run_seed;
std::string g_program;  // argv[0]
// The ids recorded so far for the running test, so several covers() calls accumulate.
std::string g_covers_test;
std::set<std::string> g_covers;

std::string current_test_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (!info) return {};
  return std::string(info->test_suite_name()) + "." + info->name();
}

}  // namespace

void covers(std::initializer_list<std::string_view> ids) {
  const std::string test = current_test_name();
  if (test != g_covers_test) {
    g_covers_test = test;
    g_covers.clear();
  }
  for (auto id : ids) g_covers.emplace(id);
  std::string joined;
  for (const auto& id : g_covers) joined += (joined.empty() ? "" : " ") + id;
  ::testing::Test::RecordProperty("covers", joined);
}

std::uint64_t run_seed() {
  if (!g_run_seed) g_run_seed = choose_seed(std::nullopt).seed;
  return *g_run_seed;
}

std::string reproduce_command() {
  std::string cmd = "FAULTLINE_SEED=" + std::to_string(run_seed()) + " " +
                    (g_program.empty() ? std::string("<test program>") : g_program);
  const std::string test = current_test_name();
  if (!test.empty()) cmd += " --gtest_filter=" + test;
  return cmd;
}

void record_seed(std::uint64_t seed) {
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  ::testing::Test::RecordProperty("reproduce", reproduce_command());
}

Rng test_rng() {
  record_seed(run_seed());
  return Rng(run_seed()).child(current_test_name());
}

void record_property_outcome(const rc::detail::TestResult& result, const std::string& id) {
  record_seed(run_seed());
  ::testing::Test::RecordProperty("rc_seed",
                                  std::to_string(rc::detail::configuration().testParams.seed));
  if (result.is<rc::detail::FailureResult>()) {
    rc::detail::Configuration config = rc::detail::configuration();
    config.reproduce[id] = result.get<rc::detail::FailureResult>().reproduce;
    ::testing::Test::RecordProperty(
        "rc_reproduce", "RC_PARAMS=\"" + rc::detail::configToMinimalString(config) + "\"");
  }
}

void init_run_seed(int* argc, char** argv) {
  g_program = (argc && *argc > 0) ? argv[0] : "";
  std::optional<std::uint64_t> flag;
  // --seed=N (ours; GoogleTest has removed its own flags from argv already).
  for (int i = 1; argc && i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.rfind("--seed=", 0) == 0) {
      flag = parse_seed(arg.substr(7));
      if (!flag) throw UsageError("--seed: '" + std::string(arg.substr(7)) + "' is not a seed");
      for (int j = i; j + 1 < *argc; ++j) argv[j] = argv[j + 1];
      --*argc;
      break;
    }
  }
  SeedChoice choice = choose_seed(flag);
  g_run_seed = choice.seed;
  if (flag) setenv("FAULTLINE_SEED", std::to_string(choice.seed).c_str(), 1);
  const char* rc_params = std::getenv("RC_PARAMS");
  std::string params = rc_params ? rc_params : "";
  if (params.find("seed=") == std::string::npos) {
    params += (params.empty() ? "" : " ") + std::string("seed=") + std::to_string(choice.seed);
    setenv("RC_PARAMS", params.c_str(), 1);
  }
  std::printf("faultline: run seed %llu (%s); reproduce with FAULTLINE_SEED=%llu\n",
              static_cast<unsigned long long>(choice.seed), choice.source.c_str(),
              static_cast<unsigned long long>(choice.seed));
}

}  // namespace faultline::testing
