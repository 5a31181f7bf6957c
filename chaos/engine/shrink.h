// Shrinking: delta debugging (Zeller's ddmin) over the faults of a failing schedule, in fake mode.
//
// The scenario runs with the seed; if it fails, subsets of its planned faults are re-run (the
// schedule is replaced, nothing else changes: same seed, same workloads) and the smallest failing
// subset is kept until removing any one fault makes it pass. The result is written as a scenario
// file with that fixed method, and that file is loaded and run again to prove it fails.
//
// Thread safety: runs scenarios one after another on the calling thread.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "chaos/engine/runner.h"

namespace faultline::chaos {

struct ShrinkResult {
  Schedule original;
  Schedule minimal;
  int runs = 0;
  std::string scenario_text;  // the minimal scenario file
  std::filesystem::path scenario_file;
  RunResult proof;  // the re-run of that file
};

// Throws UsageError if the scenario does not fail with `seed` (nothing to shrink).
ShrinkResult shrink_scenario(const std::filesystem::path& file, std::uint64_t seed,
                             const std::filesystem::path& out_dir,
                             const std::function<void(const std::string&)>& progress = {});

}  // namespace faultline::chaos
