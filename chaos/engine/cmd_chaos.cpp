// `faultline chaos list | run NAME|--all | shrink NAME --seed S`: the chaos catalogue from the
// command line. Input problems (a bad scenario file, an unknown name) print one line and exit 2
// before anything starts; a run exits 0 when every scenario passed, 1 otherwise.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "chaos/engine/catalogue.h"
#include "chaos/engine/outputs.h"
#include "chaos/engine/runner.h"
#include "chaos/engine/scenario_loader.h"
#include "chaos/engine/shrink.h"
#include "harness/cli/commands.h"
#include "harness/core/rng.h"

namespace faultline::chaos {
namespace {

struct ChaosOptions {
  std::string name;
  bool all = false;
  std::string seed;
  std::string backend = "fake";
  std::string stack_file;
  bool dry_run = false;
  std::string out = "chaos-runs";
  std::string scenarios;
};

std::uint64_t resolve_seed(const std::string& text) {
  if (!text.empty()) {
    auto s = parse_seed(text);
    if (!s) throw UsageError("--seed must be an unsigned integer, got '" + text + "'");
    return *s;
  }
  return choose_seed(cli::global_options().seed).seed;
}

std::filesystem::path scenarios_dir(const ChaosOptions& o) {
  return o.scenarios.empty() ? catalogue_dir() : std::filesystem::path(o.scenarios);
}

void check_backend(const std::string& b) {
  if (b != "fake" && b != "local" && b != "external")
    throw UsageError("--backend must be fake, local or external, got '" + b + "'");
}

void list(const ChaosOptions& o) {
  for (const auto& e : list_catalogue(scenarios_dir(o))) {
    const Scenario s = load_scenario(e.file, "fake");
    std::string modes, covers;
    for (const auto& m : s.modes) modes += (modes.empty() ? "" : ",") + m;
    for (const auto& c : s.covers) covers += (covers.empty() ? "" : " ") + c;
    std::printf("%-22s [%s] %s (covers %s)\n", s.name.c_str(), modes.c_str(), s.description.c_str(),
                covers.empty() ? "-" : covers.c_str());
  }
}

void run(const ChaosOptions& o) {
  check_backend(o.backend);
  if (o.all == !o.name.empty()) throw UsageError("chaos run: name one scenario or give --all");
  std::optional<stack::Stack> stack;
  if (!o.stack_file.empty()) stack = stack::load_stack_file(o.stack_file);
  // Validate every file first: a bad one stops the run before anything starts.
  std::vector<Scenario> todo;
  std::vector<std::string> skipped;
  const auto dir = scenarios_dir(o);
  std::vector<std::filesystem::path> files;
  if (o.all) {
    for (const auto& e : list_catalogue(dir)) files.push_back(e.file);
  } else {
    files.push_back(find_scenario(o.name, dir));
  }
  for (const auto& f : files) {
    // A scenario whose modes exclude the backend is skipped, not validated for it.
    const Scenario modes_only = load_scenario(f, "fake", stack ? &*stack : nullptr);
    if (!modes_only.supports(o.backend)) {
      if (!o.all)
        throw UsageError("scenario '" + modes_only.name + "' does not run on the " + o.backend +
                         " backend");
      skipped.push_back(modes_only.name);
      continue;
    }
    Scenario s = load_scenario(f, o.backend, stack ? &*stack : nullptr);
    todo.push_back(std::move(s));
  }
  const std::uint64_t seed = resolve_seed(o.seed);
  std::printf("chaos: seed %llu, backend %s, %zu scenario(s)\n",
              static_cast<unsigned long long>(seed), o.backend.c_str(), todo.size());
  for (const auto& s : skipped)
    std::printf("  skipped %s: its modes do not include %s\n", s.c_str(), o.backend.c_str());
  install_stop_signals();
  const bool tty = isatty(STDOUT_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<RunResult> results;
  int pass = 0, fail = 0, unknown = 0;
  for (std::size_t i = 0; i < todo.size() && !stop_requested(); ++i) {
    const auto& s = todo[i];
    const auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    if (tty)
      std::printf("\r\033[K[%zu/%zu] %s running... (%.0fs elapsed; %d pass, %d fail, %d unknown)",
                  i + 1, todo.size(), s.name.c_str(), elapsed(), pass, fail, unknown),
          std::fflush(stdout);
    RunOptions ro;
    ro.backend = o.backend;
    ro.seed = seed;
    ro.dry_run = o.dry_run;
    ro.stack = stack ? &*stack : nullptr;
    ro.out_dir = std::filesystem::path(o.out) / s.name;
    RunResult r = run_scenario(s, ro);
    if (o.dry_run) {
      std::printf("%s%s (seed %llu): schedule, nothing injected\n%s", tty ? "\r\033[K" : "",
                  s.name.c_str(), static_cast<unsigned long long>(seed),
                  describe_schedule(r.schedule).c_str());
      continue;
    }
    write_outputs(r, Journal::read_file(r.journal), ro.out_dir);
    (r.verdict == "pass" ? pass : r.verdict == "fail" ? fail : unknown)++;
    std::printf("%s[%zu/%zu] %-22s %-7s %5.1fs (%.0fs simulated) %s\n", tty ? "\r\033[K" : "",
                i + 1, todo.size(), s.name.c_str(), r.verdict.c_str(), r.wall_seconds,
                r.simulated_seconds, (ro.out_dir / "timeline.html").c_str());
    for (const auto& why : r.reasons) std::printf("      %s\n", why.c_str());
    if (r.verdict != "pass") std::printf("      reproduce: %s\n", r.reproduce.c_str());
    results.push_back(std::move(r));
  }
  if (o.dry_run) return;
  std::filesystem::create_directories(o.out);
  std::ofstream(std::filesystem::path(o.out) / "junit.xml") << junit_text(results);
  std::ofstream(std::filesystem::path(o.out) / "metrics.prom") << prometheus_text(results);
  std::printf(
      "chaos: %d pass, %d fail, %d unknown in %.1fs; JUnit %s/junit.xml, metrics %s/metrics.prom\n",
      pass, fail, unknown,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), o.out.c_str(),
      o.out.c_str());
  if (stop_requested()) std::printf("chaos: interrupted; faults healed and rollbacks run\n");
  if (fail || unknown || stop_requested()) cli::set_exit_code(1);
}

void shrink(const ChaosOptions& o) {
  if (o.seed.empty() && !cli::global_options().seed)
    throw UsageError("chaos shrink: --seed is required");
  const std::uint64_t seed = resolve_seed(o.seed);
  const auto file = find_scenario(o.name, scenarios_dir(o));
  load_scenario(file, "fake");  // bad input: exit 2 before anything runs
  std::printf("shrinking %s with seed %llu (fake backend)\n", o.name.c_str(),
              static_cast<unsigned long long>(seed));
  auto r = shrink_scenario(
      file, seed, std::filesystem::path(o.out) / "shrink",
      [](const std::string& line) { std::printf("%s\n", line.c_str()), std::fflush(stdout); });
  std::printf(
      "original schedule (%zu faults):\n%sminimal failing schedule (%zu faults, %d runs):\n%s",
      r.original.faults.size(), describe_schedule(r.original).c_str(), r.minimal.faults.size(),
      r.runs, describe_schedule(r.minimal).c_str());
  std::printf("--- %s ---\n%s---\n", r.scenario_file.c_str(), r.scenario_text.c_str());
  std::printf("proof: re-running %s -> %s\n", r.scenario_file.c_str(), r.proof.verdict.c_str());
  for (const auto& why : r.proof.reasons) std::printf("      %s\n", why.c_str());
  if (r.proof.verdict != "fail") cli::set_exit_code(1);
}

void add_chaos_command(CLI::App& app) {
  auto opts = std::make_shared<ChaosOptions>();
  auto* chaos = app.add_subcommand("chaos", "Run the chaos catalogue: list, run, shrink");
  chaos->require_subcommand(1);
  auto common = [&](CLI::App* c) {
    c->add_option("--scenarios", opts->scenarios, "Scenario directory (default: the catalogue)");
    c->add_option("--out", opts->out, "Output directory (default: chaos-runs)");
  };
  auto* l = chaos->add_subcommand("list", "List the catalogue");
  common(l);
  l->callback([opts] { list(*opts); });
  auto* r = chaos->add_subcommand("run", "Run one scenario, or --all");
  r->add_option("name", opts->name, "Scenario name or .yaml file");
  r->add_flag("--all", opts->all, "Run the whole catalogue");
  r->add_option("--seed", opts->seed, "Seed (default: FAULTLINE_SEED, else drawn)");
  r->add_option("--backend", opts->backend, "fake | local | external (default fake)");
  r->add_option("--stack", opts->stack_file, "Stack file (instead of the scenario's)");
  r->add_flag("--dry-run", opts->dry_run, "Print the schedule; inject nothing");
  common(r);
  r->callback([opts] { run(*opts); });
  auto* s = chaos->add_subcommand("shrink", "Reduce a failing random schedule to a minimal one");
  s->add_option("name", opts->name, "Scenario name or .yaml file")->required();
  s->add_option("--seed", opts->seed, "The failing seed")->required();
  common(s);
  s->callback([opts] { shrink(*opts); });
}

}  // namespace
}  // namespace faultline::chaos

FAULTLINE_COMMAND(60, faultline::chaos::add_chaos_command);
