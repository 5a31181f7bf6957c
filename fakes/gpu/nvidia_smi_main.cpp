// The fake `nvidia-smi` program: reads the fake GPU server's state file named by
// $FAULTLINE_FAKE_GPU_STATE and prints what nvidia-smi would (smi_output.h). Without the variable,
// or with a state file it cannot read, it behaves as nvidia-smi does on a machine whose driver is
// not loaded: the driver message on stdout, exit 9 (and the reason on stderr).
//
// In SmiMode::hang it blocks until the mode changes (it re-reads the state file every 50 ms) or
// kHangBound passes, then answers — so a hung nvidia-smi is bounded even if nobody kills it.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "fakes/gpu/gpu_model.h"
#include "fakes/gpu/smi_output.h"

namespace {

constexpr auto kHangBound = std::chrono::seconds(120);

void print(const faultline::fakes::gpu::SmiOutput& r) {
  std::fwrite(r.out.data(), 1, r.out.size(), stdout);
  std::fwrite(r.err.data(), 1, r.err.size(), stderr);
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace faultline::fakes::gpu;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const char* path = std::getenv(kStateFileEnv);
  if (path == nullptr || *path == '\0') {
    std::fputs(driver_missing_text().c_str(), stdout);
    std::fprintf(stderr, "(faultline fake nvidia-smi: %s is not set)\n", kStateFileEnv);
    return kSmiDriverNotLoaded;
  }
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    GpuClusterState state;
    try {
      state = GpuClusterState::read_file(path);
    } catch (const std::exception& e) {
      std::fputs(driver_missing_text().c_str(), stdout);
      std::fprintf(stderr, "(faultline fake nvidia-smi: %s)\n", e.what());
      return kSmiDriverNotLoaded;
    }
    const SmiOutput r = run_nvidia_smi(args, state);
    if (!r.hang) {
      print(r);
      return r.exit_code;
    }
    if (std::chrono::steady_clock::now() - start > kHangBound) {
      std::fputs("Unable to communicate with the NVIDIA driver: timed out\n", stdout);
      return 255;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}
