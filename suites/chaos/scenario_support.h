// Helpers shared by the chaos suite's test programs: where the catalogue and the faultline binary
// are, a run directory per test, and running one scenario with its covers recorded.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "chaos/engine/catalogue.h"
#include "chaos/engine/environment.h"
#include "chaos/engine/outputs.h"
#include "chaos/engine/runner.h"
#include "chaos/engine/scenario_loader.h"
#include "harness/core/journal.h"
#include "harness/core/sanitizers.h"

namespace faultline::chaos::testing {

inline std::filesystem::path source_dir() {
  const char* s = std::getenv("FAULTLINE_SOURCE_DIR");
  return s ? std::filesystem::path(s) : std::filesystem::path(FAULTLINE_TEST_SOURCE_DIR);
}
inline std::filesystem::path scenarios() {
  return source_dir() / "scenarios";
}
inline std::filesystem::path fixtures() {
  return source_dir() / "suites/chaos/fixtures";
}
inline std::filesystem::path faultline_binary() {
  return FAULTLINE_TEST_BINARY;
}

inline std::vector<std::string> catalogue_names() {
  std::vector<std::string> out;
  for (const auto& e : list_catalogue(scenarios())) out.push_back(e.name);
  return out;
}

// Records the scenario's covers ids on the current test, as FAULTLINE_COVERS does.
inline void record_covers(const Scenario& s) {
  std::string joined;
  for (const auto& c : s.covers) joined += (joined.empty() ? "" : " ") + c;
  if (!joined.empty()) ::testing::Test::RecordProperty("covers", joined);
}

// Why this build cannot run scenario `s` — it has a workload on Kafka and librdkafka cannot run
// under ThreadSanitizer (harness/core/sanitizers.h) — or nullopt.
inline std::optional<std::string> unavailable_in_this_build(const Scenario& s) {
  const auto why = librdkafka_unavailable();
  if (!why) return std::nullopt;
  const auto stack = load_scenario_stack(s.stack, std::filesystem::path(s.file).parent_path());
  for (const auto& w : s.workloads)
    if (const auto* svc = stack.find(w.target); svc && svc->kind == stack::ServiceKind::kafka)
      return s.name + " runs a workload on Kafka: " + *why;
  return std::nullopt;
}

inline std::string test_name_of(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (auto& c : n)
    if (c == '-') c = '_';
  return n;
}

}  // namespace faultline::chaos::testing
