#include "chaos/engine/shrink.h"

#include <fstream>
#include <sstream>

#include "chaos/engine/scenario_loader.h"

namespace faultline::chaos {

ShrinkResult shrink_scenario(const std::filesystem::path& file, std::uint64_t seed,
                             const std::filesystem::path& out_dir,
                             const std::function<void(const std::string&)>& progress) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  const Scenario sc = load_scenario(file, "fake");
  ShrinkResult out;
  auto attempt = [&](const std::vector<PlannedFault>& faults) {
    RunOptions o;
    o.backend = "fake";
    o.seed = seed;
    o.out_dir = out_dir / "shrink-work";
    o.schedule = Schedule{faults};
    ++out.runs;
    const bool failed = run_scenario(sc, o).verdict == "fail";
    if (progress)
      progress("  run " + std::to_string(out.runs) + ": " + std::to_string(faults.size()) +
               " faults -> " + (failed ? "fails" : "passes"));
    return failed;
  };
  RunOptions plan;
  plan.seed = seed;
  plan.dry_run = true;
  out.original = run_scenario(sc, plan).schedule;
  if (!attempt(out.original.faults))
    throw UsageError("scenario '" + sc.name + "' does not fail with seed " + std::to_string(seed) +
                     ": nothing to shrink");
  std::vector<PlannedFault> c = out.original.faults;
  std::size_t n = 2;
  while (c.size() >= 2) {
    const std::size_t chunk = (c.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < c.size() && !reduced; start += chunk) {
      std::vector<PlannedFault> subset(c.begin() + start,
                                       c.begin() + std::min(c.size(), start + chunk));
      if (subset.size() < c.size() && attempt(subset)) c = subset, n = 2, reduced = true;
    }
    for (std::size_t start = 0; start < c.size() && !reduced && n > 2; start += chunk) {
      std::vector<PlannedFault> complement;
      for (std::size_t i = 0; i < c.size(); ++i)
        if (i < start || i >= start + chunk) complement.push_back(c[i]);
      if (attempt(complement)) c = complement, n = std::max<std::size_t>(n - 1, 2), reduced = true;
    }
    if (reduced) continue;
    if (n >= c.size()) break;
    n = std::min(n * 2, c.size());
  }
  out.minimal = Schedule{c};
  std::filesystem::create_directories(out_dir);
  out.scenario_text = scenario_with_schedule(text.str(), out.minimal, sc.name + "-shrunk");
  out.scenario_file = out_dir / (sc.name + "-shrunk.yaml");
  std::ofstream(out.scenario_file) << out.scenario_text;
  // The proof: the written file, loaded like any scenario, fails with the same seed.
  const Scenario shrunk = load_scenario(out.scenario_file, "fake");
  RunOptions o;
  o.seed = seed;
  o.out_dir = out_dir / (sc.name + "-shrunk");
  out.proof = run_scenario(shrunk, o);
  return out;
}

}  // namespace faultline::chaos
