// stack_bench: how long a stack takes to come up healthy and to go down, on the fake and local
// backends — the targets: fake (postgres, redis, 3-broker kafka, docker, 2 GPUs) up
// <= 20 ms and down <= 20 ms; local (PostgreSQL from the template, redis-server, mock kafka) up
// <= 1.0 s and down <= 0.5 s.
//
//   stack_bench [--mode fake|local|both] [--runs N] [--stack FILE] [--breakdown]
//               [--first-poll-ms N]   (the Orchestrator's first wait between probes)
//
// Each run builds a StackSession (the event loop, the backend, the Orchestrator), starts the
// stack and waits until every service's wait strategy holds ("up" = construction + start), then
// stops it and destroys the session ("down" = stop + destruction: servers killed and reaped,
// data directories removed). Services the backend cannot run are left out and named on a '#'
// line. The ops ServiceExporter StackSession can start is off (it is not part of the stack).
// Prints "name value unit" lines (median and p90 over the runs) for run.sh's table.
// Not a test: figures are measured, never asserted. Bounded: at most --runs runs per mode.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "harness/backends/stack_session.h"
#include "harness/core/error.h"
#include "harness/core/log.h"
#include "harness/core/run_dir.h"

using namespace faultline;
using Steady = std::chrono::steady_clock;

namespace {

double ms_since(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void emit(const std::string& name, double value, const char* unit) {
  std::printf("%s %.2f %s\n", name.c_str(), value, unit);
  std::fflush(stdout);
}

void bench(RunDirectory& run, const stack::Stack& stack, const std::string& mode, int runs,
           bool breakdown, int first_poll_ms) {
  std::vector<double> up, down;
  std::string left_out;
  for (int i = 0; i < runs; ++i) {
    backends::StackSessionOptions options;
    options.backend = mode;
    options.seed = 1;
    options.exporter = false;
    if (first_poll_ms >= 0)
      options.orchestrator.first_poll_interval = std::chrono::milliseconds(
          first_poll_ms);  // the stack itself: the ops exporter is measured on its own
    auto t = Steady::now();
    auto session = std::make_unique<backends::StackSession>(run, stack, options);
    const auto t_start = Steady::now();
    const std::int64_t t0 = session->clock().now_ns();
    session->start();
    up.push_back(ms_since(t));
    if (breakdown) {
      // Where the time went: construction, then each service's start and ready (the journal's
      // clock is the session's RealClock; offsets from the call to start()).
      std::printf("# %s run %d: up %.1f ms; session built in %.1f ms;", mode.c_str(), i, up.back(),
                  std::chrono::duration<double, std::milli>(t_start - t).count());
      const auto& events = session->journal().events();
      for (const auto& e : events) {
        if (e.kind == "service.start" || e.kind == "service.ready") {
          std::printf(" %s %s +%.1f ms;", e.subject.c_str(), e.kind.c_str() + 8,
                      static_cast<double>(e.sim_ns - t0) / 1e6);
        }
      }
      std::printf("\n");
    }
    if (i == 0) {
      for (const auto& [s, why] : session->unavailable()) left_out += " " + s + " (" + why + ")";
      std::string ran;
      for (const auto& s : session->stack().services) ran += " " + s.name;
      std::printf("# %s: services:%s\n", mode.c_str(), ran.c_str());
      if (!left_out.empty()) std::printf("# %s: left out:%s\n", mode.c_str(), left_out.c_str());
    }
    t = Steady::now();
    session->stop();
    session.reset();
    down.push_back(ms_since(t));
  }
  std::printf("# %s: %d runs\n", mode.c_str(), runs);
  emit(mode + "_up_median", quantile(up, 0.5), "ms");
  emit(mode + "_up_p90", quantile(up, 0.9), "ms");
  emit(mode + "_down_median", quantile(down, 0.5), "ms");
  emit(mode + "_down_p90", quantile(down, 0.9), "ms");
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "both";
  int runs = 0;
  bool breakdown = false;
  int first_poll_ms = -1;  // -1: the Orchestrator's default
  std::string stack_file = FAULTLINE_DEFAULT_STACK;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mode" && i + 1 < argc) {
      mode = argv[++i];
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--first-poll-ms" && i + 1 < argc) {
      first_poll_ms = std::atoi(argv[++i]);
    } else if (a == "--breakdown") {
      breakdown = true;
    } else if (a == "--stack" && i + 1 < argc) {
      stack_file = argv[++i];
    } else {
      std::fprintf(
          stderr,
          "usage: stack_bench [--mode fake|local|both] [--runs N] [--stack FILE] [--breakdown]\n"
          "       [--first-poll-ms N]\n");
      return 2;
    }
  }
  if (mode != "fake" && mode != "local" && mode != "both") {
    std::fprintf(stderr, "--mode must be fake, local or both\n");
    return 2;
  }
  if (runs < 0 || runs > 1000) {
    std::fprintf(stderr, "--runs must be 1..1000\n");
    return 2;
  }
  try {
    log::Config quiet;
    quiet.level = log::Level::warn;
    log::configure(quiet);
    RunDirectory run = RunDirectory::create("stack-bench");  // before any thread
    const stack::Stack stack = stack::load_stack_file(stack_file);
    if (mode != "local") bench(run, stack, "fake", runs ? runs : 50, breakdown, first_poll_ms);
    if (mode != "fake") bench(run, stack, "local", runs ? runs : 15, breakdown, first_poll_ms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stack_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
