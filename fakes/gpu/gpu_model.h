// FakeGpuCluster: the device model behind the GPU fake — N NVIDIA-like GPUs of one server, with the
// readings NVML and nvidia-smi give (name, uuid, PCI bus id, memory total/used, utilization,
// temperature, power, ECC counters, throttle reasons, Xid events) and the hardware faults the chaos
// catalogue needs:
//   Xid 79  the GPU fell off the bus: it is lost, every query of it fails ("GPU is lost")
//   Xid 48  a double-bit ECC error: the uncorrectable counters grow, the device needs a reset
//   thermal throttling (hardware slowdown at 90 C), memory exhausted (used == total),
//   utilization stuck at 0 % or 100 % whatever the load.
// Healing a fault is what a GPU reset (or a reboot, for Xid 79) does: the device comes back and its
// volatile ECC counters go back to zero; aggregate counters and the Xid history stay.
//
// Time comes from the harness Clock: Xid events carry the clock time, and a fault injected with a
// duration heals itself on a clock timer (on a ManualClock, when advance() passes it). Readings
// are pure functions of the load that workloads put on a device (set_load / allocate / release)
// and of the active faults, so a seed gives the same readings every time.
//
// The fake `nvidia-smi` program (nvidia_smi_main.cpp) reads the cluster through a state file: give
// `state_file` in the options and the cluster rewrites it (atomically, by rename) after every
// change; the program finds it through $FAULTLINE_FAKE_GPU_STATE (kStateFileEnv).
//
// Thread safety: every member may be called from any thread (one lock). Clock timers of timed
// faults take the same lock; the destructor cancels those still pending.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/clock.h"

namespace faultline::fakes::gpu {

// The environment variable through which the fake nvidia-smi finds the state file.
inline constexpr const char* kStateFileEnv = "FAULTLINE_FAKE_GPU_STATE";

// What a device is, as far as failover is concerned.
enum class GpuHealth {
  healthy,   // no fault
  degraded,  // throttling, memory exhausted or utilization stuck: works, slowly or not at all
  failed,    // an uncorrectable (double-bit) ECC error: needs a reset before use
  lost,      // fell off the bus (Xid 79): does not answer at all
};
std::string_view to_string(GpuHealth health);

enum class GpuFault {
  fell_off_bus,            // Xid 79
  double_bit_ecc,          // Xid 48
  thermal_throttle,        // HW slowdown; temperature at the slowdown threshold
  memory_exhausted,        // memory.used == memory.total
  utilization_stuck_zero,  // utilization.gpu reads 0 whatever the load
  utilization_stuck_full,  // utilization.gpu reads 100 whatever the load
};
// Names used by the control endpoint and the chaos engine: "xid79", "xid48", "thermal_throttle",
// "memory_exhausted", "utilization_stuck_0", "utilization_stuck_100".
std::string_view to_string(GpuFault fault);
// nullopt for an unknown name.
std::optional<GpuFault> gpu_fault_from_string(std::string_view name);
std::vector<std::string> gpu_fault_names();

// How the fake nvidia-smi program behaves as a whole (for ET-INFRA-06.2: missing, hanging,
// malformed). Not a device fault: a property of the server's tooling.
enum class SmiMode {
  normal,
  hang,            // the program blocks (bounded: it gives up after kSmiHangBound)
  malformed,       // the program prints garbage and exits 0
  driver_missing,  // "NVIDIA-SMI has failed because it couldn't communicate with the driver"
};
std::string_view to_string(SmiMode mode);
std::optional<SmiMode> smi_mode_from_string(std::string_view name);

struct XidEvent {
  int code = 0;             // 48, 79, ...
  std::int64_t at_ns = 0;   // Clock::now_ns() when it happened
  std::string description;  // "GPU has fallen off the bus", "DBE (Double Bit Error) ECC Error"
};

// One device's readings at one instant: what NVML would answer.
struct GpuDeviceState {
  int index = 0;
  std::string name;        // "NVIDIA A100-PCIE-40GB"
  std::string uuid;        // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", from the seed
  std::string serial;      // 13 digits, from the seed
  std::string pci_bus_id;  // "00000000:17:00.0"
  std::uint64_t memory_total_mib = 0;
  std::uint64_t memory_reserved_mib = 0;  // what the driver keeps; not usable
  std::uint64_t memory_used_mib = 0;
  int utilization_gpu = 0;     // percent, 0..100
  int utilization_memory = 0;  // percent, 0..100
  int temperature_c = 0;
  double power_draw_w = 0;
  double power_limit_w = 0;
  std::uint64_t ecc_corrected_volatile = 0;
  std::uint64_t ecc_uncorrected_volatile = 0;
  std::uint64_t ecc_corrected_aggregate = 0;
  std::uint64_t ecc_uncorrected_aggregate = 0;
  bool hw_thermal_slowdown = false;
  int pstate = 0;  // P0..P8; 0 under load
  std::vector<XidEvent> xid_events;
  std::set<GpuFault> faults;
  GpuHealth health = GpuHealth::healthy;

  std::uint64_t memory_free_mib() const;
  nlohmann::json to_json() const;
  static GpuDeviceState from_json(const nlohmann::json& j);  // throws Error on a bad document
};

// The whole server at one instant: what the state file holds.
struct GpuClusterState {
  std::string host;            // the server's name, e.g. "gpu-a"
  std::string driver_version;  // "535.129.03"
  std::string cuda_version;    // "12.2"
  SmiMode smi_mode = SmiMode::normal;
  std::int64_t at_ns = 0;         // Clock time of the snapshot
  std::int64_t wall_unix_ms = 0;  // wall time of the snapshot (nvidia-smi prints a timestamp)
  std::vector<GpuDeviceState> devices;

  nlohmann::json to_json() const;
  static GpuClusterState from_json(const nlohmann::json& j);  // throws Error on a bad document
  // Reads a state file. Throws Error naming the file when it is missing or malformed.
  static GpuClusterState read_file(const std::filesystem::path& path);
};

struct FakeGpuOptions {
  std::string host = "gpu-0";
  int devices = 2;  // 1..16
  std::string name = "NVIDIA A100-PCIE-40GB";
  std::uint64_t memory_total_mib = 40960;
  std::uint64_t memory_reserved_mib = 420;  // as an A100 40GB reports
  double power_limit_w = 250;
  double idle_power_w = 35;
  int idle_temperature_c = 31;
  int slowdown_temperature_c = 90;     // where hardware slowdown starts
  std::uint64_t seed = 1;              // uuids and serials derive from it and the host
  std::filesystem::path state_file{};  // empty: no state file (in-process use only)
};

class FakeGpuCluster {
 public:
  // Throws InputError for a bad option (devices outside 1..16, zero memory, ...).
  FakeGpuCluster(Clock& clock, FakeGpuOptions options = {});
  ~FakeGpuCluster();
  FakeGpuCluster(const FakeGpuCluster&) = delete;
  FakeGpuCluster& operator=(const FakeGpuCluster&) = delete;

  const FakeGpuOptions& options() const { return options_; }
  int device_count() const { return static_cast<int>(devices_.size()); }

  // Readings now. Throws InputError for an index out of range.
  GpuClusterState snapshot() const;
  GpuDeviceState device(int index) const;

  // Load, as a workload puts it on a device. Utilization is clamped to 0..100 and memory to the
  // usable memory (total - reserved); they read as set unless a fault overrides them.
  void set_load(int index, int utilization_percent, std::uint64_t memory_used_mib);
  // Adds / removes `mib` of used memory (clamped); returns false if allocating would exceed the
  // usable memory (nothing changes then), as cudaMalloc fails with out-of-memory.
  bool allocate(int index, std::uint64_t mib);
  void release(int index, std::uint64_t mib);
  // Single-bit (corrected) ECC errors: counted, harmless.
  void add_corrected_ecc(int index, std::uint64_t count);

  // Faults. `duration`: heal by itself after that much clock time. Injecting an active fault again
  // only re-arms its duration. Throws InputError for a bad index.
  void inject(int index, GpuFault fault, std::optional<Duration> duration = std::nullopt);
  void heal(int index, GpuFault fault);
  void heal_device(int index);  // every fault of one device (a GPU reset)
  void heal_all();              // every fault of every device, and SmiMode::normal
  void set_smi_mode(SmiMode mode);
  SmiMode smi_mode() const;

  // Active faults, {"0": ["xid79"], ...} plus "smi_mode"; for the control endpoint.
  nlohmann::json faults_json() const;

 private:
  struct Device {
    GpuDeviceState base;                 // identity, load and counters; readings derive from it
    std::map<GpuFault, TimerId> timers;  // timed faults still to heal themselves
  };
  GpuDeviceState reading_locked(const Device& d) const;
  GpuClusterState snapshot_locked() const;
  Device& at_locked(int index);
  const Device& at_locked(int index) const;
  void heal_locked(Device& d, GpuFault fault);
  void write_state_locked() const;

  Clock& clock_;
  FakeGpuOptions options_;
  mutable std::mutex mu_;
  std::vector<Device> devices_;
  SmiMode smi_mode_ = SmiMode::normal;
};

}  // namespace faultline::fakes::gpu
