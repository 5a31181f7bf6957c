// `faultline fake gpu`: runs one fake GPU server in the foreground for a person (or a script): a
// FakeGpuCluster whose state the fake `nvidia-smi` reads, and a loopback HTTP control endpoint for
// its faults. Prints the nvidia-smi to use and the environment it needs, then serves until SIGINT
// or SIGTERM, and stops cleanly (the state file lives in the run directory and goes with it).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "fakes/gpu/control_http.h"
#include "fakes/gpu/fake_gpu_paths.h"
#include "fakes/gpu/gpu_model.h"
#include "harness/cli/commands.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/http_server.h"
#include "harness/core/rng.h"
#include "harness/core/run_dir.h"

namespace faultline {
namespace {

struct FakeGpuCommandOptions {
  int devices = 2;
  std::string host = "gpu-0";
  std::string control = "127.0.0.1:0";
  std::string nvidia_smi;
  std::uint64_t memory_mib = 40960;
};

// --nvidia-smi, else $FAULTLINE_FAKE_NVIDIA_SMI, else the one this build made.
std::filesystem::path find_nvidia_smi(const std::string& flag) {
  std::filesystem::path path = flag;
  if (path.empty()) {
    const char* env = std::getenv("FAULTLINE_FAKE_NVIDIA_SMI");
    path = (env != nullptr && *env != '\0') ? env : FAULTLINE_FAKE_NVIDIA_SMI_PATH;
  }
  if (::access(path.c_str(), X_OK) != 0) {
    throw UsageError("fake nvidia-smi not found at " + path.string() +
                     " (build the `nvidia-smi` target, or pass --nvidia-smi PATH)");
  }
  return std::filesystem::absolute(path);
}

void run_fake_gpu(const FakeGpuCommandOptions& o) {
  if (o.devices < 1 || o.devices > 16) throw UsageError("--devices must be 1..16");
  if (o.memory_mib < 1024) throw UsageError("--memory-mib must be at least 1024");
  const auto control = parse_host_port(o.control, "--control");
  const auto smi = find_nvidia_smi(o.nvidia_smi);

  // Block the stop signals before any thread starts, so that only sigwait() below takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The run directory (made before any thread: it forks its watchdog) holds the state file.
  RunDirectory run = RunDirectory::create("fake-gpu");
  const SeedChoice seed = choose_seed(cli::global_options().seed);
  RealClock clock;
  EventLoop loop;
  fakes::gpu::FakeGpuOptions options;
  options.host = o.host;
  options.devices = o.devices;
  options.memory_total_mib = o.memory_mib;
  options.seed = seed.seed;
  options.state_file = run.path() / "gpu-state.json";
  {
    fakes::gpu::FakeGpuCluster cluster(clock, options);
    fakes::gpu::GpuControlEndpoint endpoint(
        loop, cluster, control.first.empty() ? "127.0.0.1" : control.first, control.second);
    endpoint.start();
    std::printf("seed %llu (%s)\n", static_cast<unsigned long long>(seed.seed),
                seed.source.c_str());
    std::printf("gpu fake %s: %d x %s\n", o.host.c_str(), o.devices, options.name.c_str());
    std::printf("nvidia-smi %s\n", smi.c_str());
    std::printf("export %s=%s PATH=%s:$PATH\n", fakes::gpu::kStateFileEnv,
                options.state_file.c_str(), smi.parent_path().c_str());
    std::printf("control endpoint http://%s:%u/faults\n",
                control.first.empty() ? "127.0.0.1" : control.first.c_str(),
                static_cast<unsigned>(endpoint.port()));
    std::fflush(stdout);
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    endpoint.stop();
    std::printf("stopped (%s)\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  }
  run.close();
}

void add_fake_gpu_command(CLI::App& fake) {
  auto o = std::make_shared<FakeGpuCommandOptions>();
  auto* cmd = fake.add_subcommand(
      "gpu", "Run a fake GPU server (its nvidia-smi and fault endpoint) until SIGINT/SIGTERM");
  cmd->add_option("--devices", o->devices, "number of GPUs, 1..16 (default 2)");
  cmd->add_option("--host", o->host, "the server's name (default gpu-0)");
  cmd->add_option("--memory-mib", o->memory_mib, "memory per GPU in MiB (default 40960)");
  cmd->add_option("--control", o->control,
                  "HTTP control endpoint HOST:PORT, loopback only (default 127.0.0.1:0)");
  cmd->add_option("--nvidia-smi", o->nvidia_smi, "the fake nvidia-smi program to advertise");
  cmd->callback([o] { run_fake_gpu(*o); });
}

}  // namespace

FAULTLINE_FAKE_COMMAND(40, add_fake_gpu_command);

}  // namespace faultline
