// What the fake `nvidia-smi` prints for a command line, given the fake server's state — the whole
// program except reading the state file, so that tests can check it without starting a process.
//
// Emulated (texts and exit codes as nvidia-smi 535 prints them, as far as public reports show):
//   -L / --list-gpus               "GPU 0: NVIDIA A100-PCIE-40GB (UUID: GPU-...)"
//   --query-gpu=F1,F2,... --format=csv[,noheader][,nounits]   (see smi_fields.cpp for F)
//   -q -x / --query --xml-format   a subset of the XML log (identity, memory, utilization, ECC,
//                                  temperature, power, throttle reasons)
//   -i / --id=I[,J]                select devices by index, uuid or PCI bus id
//   -h / --help
// An unknown field prints 'Field "foo" is not a valid field to query.' and exits 2. A device that
// fell off the bus prints "Unable to determine the device handle for GPU 0000:07:00.0: GPU is
// lost.  Reboot the system to recover this GPU" in place of its output and the program exits 15
// (nvidia-smi's "GPU is lost" return value); the other devices are printed as usual.
// SmiMode::driver_missing prints NVIDIA-SMI's "couldn't communicate with the NVIDIA driver" and
// exits 9; SmiMode::malformed prints lines no nvidia-smi prints; SmiMode::hang asks the program to
// block (SmiOutput::hang).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "fakes/gpu/gpu_model.h"

namespace faultline::fakes::gpu {

struct SmiOutput {
  std::string out;
  std::string err;
  int exit_code = 0;
  bool hang = false;  // the program should block before printing (SmiMode::hang)
};

// nvidia-smi's return values (from its manual page).
inline constexpr int kSmiOk = 0;
inline constexpr int kSmiInvalidArgument = 2;
inline constexpr int kSmiNotSupported = 3;
inline constexpr int kSmiDriverNotLoaded = 9;
inline constexpr int kSmiGpuLost = 15;

// `args` excludes the program name.
SmiOutput run_nvidia_smi(const std::vector<std::string>& args, const GpuClusterState& state);

// The line nvidia-smi prints for a device it cannot reach.
std::string gpu_lost_line(const GpuDeviceState& device);
// The text printed when the driver (here: the fake's state) cannot be reached.
std::string driver_missing_text();

// One --query-gpu field: its header ("memory.used [MiB]") and its value for a device, with or
// without the unit. nullopt for a field nvidia-smi does not know.
struct SmiFieldValue {
  std::string header;
  std::string with_unit;
  std::string without_unit;
};
std::optional<SmiFieldValue> smi_field(const std::string& name, const GpuDeviceState& device,
                                       const GpuClusterState& state);

// The XML subset of `nvidia-smi -q -x` for `devices`.
std::string smi_xml(const GpuClusterState& state, const std::vector<GpuDeviceState>& devices);

}  // namespace faultline::fakes::gpu
