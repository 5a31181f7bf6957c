#include "fakes/gpu/gpu_model.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "harness/core/error.h"
#include "harness/core/rng.h"

namespace faultline::fakes::gpu {

namespace {

constexpr std::pair<GpuFault, std::string_view> kFaultNames[] = {
    {GpuFault::fell_off_bus, "xid79"},
    {GpuFault::double_bit_ecc, "xid48"},
    {GpuFault::thermal_throttle, "thermal_throttle"},
    {GpuFault::memory_exhausted, "memory_exhausted"},
    {GpuFault::utilization_stuck_zero, "utilization_stuck_0"},
    {GpuFault::utilization_stuck_full, "utilization_stuck_100"},
};

constexpr std::pair<SmiMode, std::string_view> kSmiModeNames[] = {
    {SmiMode::normal, "normal"},
    {SmiMode::hang, "hang"},
    {SmiMode::malformed, "malformed"},
    {SmiMode::driver_missing, "driver_missing"},
};

std::string hex(std::uint64_t value, int digits) {
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  }
  return out;
}

// A uuid in nvidia-smi's form, GPU-8-4-4-4-12 hex digits, drawn from the seed.
std::string make_uuid(Rng& rng) {
  const std::uint64_t a = rng.next(), b = rng.next();
  return "GPU-" + hex(a >> 32, 8) + "-" + hex((a >> 16) & 0xffff, 4) + "-" + hex(a & 0xffff, 4) +
         "-" + hex(b >> 48, 4) + "-" + hex(b & 0xffffffffffffULL, 12);
}

std::string make_bus_id(int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "00000000:%02X:00.0", (0x07 + 0x10 * index) & 0xff);
  return buf;
}

}  // namespace

std::string_view to_string(GpuHealth health) {
  switch (health) {
    case GpuHealth::healthy:
      return "healthy";
    case GpuHealth::degraded:
      return "degraded";
    case GpuHealth::failed:
      return "failed";
    case GpuHealth::lost:
      return "lost";
  }
  return "unknown";
}

std::string_view to_string(GpuFault fault) {
  for (const auto& [f, name] : kFaultNames) {
    if (f == fault) return name;
  }
  return "unknown";
}

std::optional<GpuFault> gpu_fault_from_string(std::string_view name) {
  for (const auto& [f, n] : kFaultNames) {
    if (n == name) return f;
  }
  return std::nullopt;
}

std::vector<std::string> gpu_fault_names() {
  std::vector<std::string> names;
  for (const auto& [f, n] : kFaultNames) names.emplace_back(n);
  return names;
}

std::string_view to_string(SmiMode mode) {
  for (const auto& [m, name] : kSmiModeNames) {
    if (m == mode) return name;
  }
  return "normal";
}

std::optional<SmiMode> smi_mode_from_string(std::string_view name) {
  for (const auto& [m, n] : kSmiModeNames) {
    if (n == name) return m;
  }
  return std::nullopt;
}

std::uint64_t GpuDeviceState::memory_free_mib() const {
  const std::uint64_t taken = memory_reserved_mib + memory_used_mib;
  return taken >= memory_total_mib ? 0 : memory_total_mib - taken;
}

FakeGpuCluster::FakeGpuCluster(Clock& clock, FakeGpuOptions options)
    : clock_(clock), options_(std::move(options)) {
  if (options_.devices < 1 || options_.devices > 16) {
    throw InputError({},
                     "fake gpu: devices must be 1..16, got " + std::to_string(options_.devices));
  }
  if (options_.memory_total_mib == 0 || options_.memory_reserved_mib >= options_.memory_total_mib) {
    throw InputError({}, "fake gpu: memory_total_mib must be > 0 and above memory_reserved_mib");
  }
  if (options_.power_limit_w <= options_.idle_power_w || options_.idle_power_w < 0) {
    throw InputError({}, "fake gpu: power_limit_w must be above idle_power_w (>= 0)");
  }
  if (options_.host.empty()) throw InputError({}, "fake gpu: host must not be empty");
  const Rng root(options_.seed);
  for (int i = 0; i < options_.devices; ++i) {
    Rng rng = root.child(options_.host + "/gpu/" + std::to_string(i));
    Device d;
    d.base.index = i;
    d.base.name = options_.name;
    d.base.uuid = make_uuid(rng);
    d.base.serial = std::to_string(1320000000000ULL + rng.uniform(0, 999999999ULL));
    d.base.pci_bus_id = make_bus_id(i);
    d.base.memory_total_mib = options_.memory_total_mib;
    d.base.memory_reserved_mib = options_.memory_reserved_mib;
    d.base.power_limit_w = options_.power_limit_w;
    devices_.push_back(std::move(d));
  }
  std::lock_guard lock(mu_);
  write_state_locked();
}

FakeGpuCluster::~FakeGpuCluster() {
  std::lock_guard lock(mu_);
  for (auto& d : devices_) {
    for (const auto& [fault, timer] : d.timers) clock_.cancel(timer);
    d.timers.clear();
  }
  if (!options_.state_file.empty()) {
    std::error_code ignored;
    std::filesystem::remove(options_.state_file, ignored);
  }
}

FakeGpuCluster::Device& FakeGpuCluster::at_locked(int index) {
  if (index < 0 || index >= device_count()) {
    throw InputError({}, "fake gpu: no device " + std::to_string(index) + " (devices 0.." +
                             std::to_string(device_count() - 1) + ")");
  }
  return devices_[static_cast<std::size_t>(index)];
}

const FakeGpuCluster::Device& FakeGpuCluster::at_locked(int index) const {
  return const_cast<FakeGpuCluster*>(this)->at_locked(index);
}

GpuDeviceState FakeGpuCluster::reading_locked(const Device& d) const {
  GpuDeviceState s = d.base;
  const auto has = [&](GpuFault f) { return s.faults.count(f) != 0; };
  const std::uint64_t usable = s.memory_total_mib - s.memory_reserved_mib;
  if (has(GpuFault::memory_exhausted)) s.memory_used_mib = usable;
  if (has(GpuFault::utilization_stuck_zero)) s.utilization_gpu = 0;
  if (has(GpuFault::utilization_stuck_full)) s.utilization_gpu = 100;
  s.utilization_memory = s.utilization_gpu / 2;
  s.temperature_c = options_.idle_temperature_c + (s.utilization_gpu * 35) / 100;
  s.power_draw_w = options_.idle_power_w +
                   (options_.power_limit_w - options_.idle_power_w) * s.utilization_gpu / 100.0;
  if (has(GpuFault::thermal_throttle)) {
    s.temperature_c = options_.slowdown_temperature_c;
    s.hw_thermal_slowdown = true;
    s.power_draw_w = std::min(s.power_draw_w, options_.power_limit_w * 0.6);
  }
  s.pstate = (s.utilization_gpu > 0 || s.memory_used_mib > 0) ? 0 : 8;
  if (has(GpuFault::fell_off_bus)) {
    s.health = GpuHealth::lost;
  } else if (has(GpuFault::double_bit_ecc)) {
    s.health = GpuHealth::failed;
  } else if (!s.faults.empty()) {
    s.health = GpuHealth::degraded;
  } else {
    s.health = GpuHealth::healthy;
  }
  return s;
}

GpuClusterState FakeGpuCluster::snapshot_locked() const {
  GpuClusterState state;
  state.host = options_.host;
  state.driver_version = "535.129.03";
  state.cuda_version = "12.2";
  state.smi_mode = smi_mode_;
  state.at_ns = clock_.now_ns();
  state.wall_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall_now().time_since_epoch())
          .count();
  for (const auto& d : devices_) state.devices.push_back(reading_locked(d));
  return state;
}

GpuClusterState FakeGpuCluster::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_locked();
}

GpuDeviceState FakeGpuCluster::device(int index) const {
  std::lock_guard lock(mu_);
  return reading_locked(at_locked(index));
}

void FakeGpuCluster::set_load(int index, int utilization_percent, std::uint64_t memory_used_mib) {
  std::lock_guard lock(mu_);
  auto& b = at_locked(index).base;
  b.utilization_gpu = std::clamp(utilization_percent, 0, 100);
  b.memory_used_mib = std::min(memory_used_mib, b.memory_total_mib - b.memory_reserved_mib);
  write_state_locked();
}

bool FakeGpuCluster::allocate(int index, std::uint64_t mib) {
  std::lock_guard lock(mu_);
  auto& d = at_locked(index);
  const auto reading = reading_locked(d);
  if (reading.health == GpuHealth::lost || reading.health == GpuHealth::failed) return false;
  if (mib > reading.memory_free_mib()) return false;
  d.base.memory_used_mib += mib;
  write_state_locked();
  return true;
}

void FakeGpuCluster::release(int index, std::uint64_t mib) {
  std::lock_guard lock(mu_);
  auto& b = at_locked(index).base;
  b.memory_used_mib -= std::min(mib, b.memory_used_mib);
  write_state_locked();
}

void FakeGpuCluster::add_corrected_ecc(int index, std::uint64_t count) {
  std::lock_guard lock(mu_);
  auto& b = at_locked(index).base;
  b.ecc_corrected_volatile += count;
  b.ecc_corrected_aggregate += count;
  write_state_locked();
}

void FakeGpuCluster::inject(int index, GpuFault fault, std::optional<Duration> duration) {
  std::lock_guard lock(mu_);
  auto& d = at_locked(index);
  if (duration && duration->count() <= 0) {
    throw InputError({}, "fake gpu: a fault duration must be positive");
  }
  const bool fresh = d.base.faults.insert(fault).second;
  if (fresh && fault == GpuFault::fell_off_bus) {
    d.base.xid_events.push_back({79, clock_.now_ns(), "GPU has fallen off the bus"});
  }
  if (fresh && fault == GpuFault::double_bit_ecc) {
    d.base.xid_events.push_back({48, clock_.now_ns(), "DBE (Double Bit Error) ECC Error"});
    d.base.ecc_uncorrected_volatile += 1;
    d.base.ecc_uncorrected_aggregate += 1;
  }
  if (auto it = d.timers.find(fault); it != d.timers.end()) {
    clock_.cancel(it->second);
    d.timers.erase(it);
  }
  if (duration) {
    d.timers[fault] = clock_.call_after(*duration, [this, index, fault] {
      std::lock_guard timer_lock(mu_);
      auto& dev = devices_[static_cast<std::size_t>(index)];
      dev.timers.erase(fault);
      heal_locked(dev, fault);
      write_state_locked();
    });
  }
  write_state_locked();
}

void FakeGpuCluster::heal_locked(Device& d, GpuFault fault) {
  if (d.base.faults.erase(fault) == 0) return;
  if (auto it = d.timers.find(fault); it != d.timers.end()) {
    clock_.cancel(it->second);
    d.timers.erase(it);
  }
  if (fault == GpuFault::fell_off_bus || fault == GpuFault::double_bit_ecc) {
    // Recovery is a GPU reset (or a reboot): contexts die, volatile counters restart.
    d.base.ecc_corrected_volatile = 0;
    d.base.ecc_uncorrected_volatile = 0;
    d.base.utilization_gpu = 0;
    d.base.memory_used_mib = 0;
  }
}

void FakeGpuCluster::heal(int index, GpuFault fault) {
  std::lock_guard lock(mu_);
  heal_locked(at_locked(index), fault);
  write_state_locked();
}

void FakeGpuCluster::heal_device(int index) {
  std::lock_guard lock(mu_);
  auto& d = at_locked(index);
  const auto faults = d.base.faults;
  for (const auto fault : faults) heal_locked(d, fault);
  write_state_locked();
}

void FakeGpuCluster::heal_all() {
  std::lock_guard lock(mu_);
  for (auto& d : devices_) {
    const auto faults = d.base.faults;
    for (const auto fault : faults) heal_locked(d, fault);
  }
  smi_mode_ = SmiMode::normal;
  write_state_locked();
}

void FakeGpuCluster::set_smi_mode(SmiMode mode) {
  std::lock_guard lock(mu_);
  smi_mode_ = mode;
  write_state_locked();
}

SmiMode FakeGpuCluster::smi_mode() const {
  std::lock_guard lock(mu_);
  return smi_mode_;
}

nlohmann::json FakeGpuCluster::faults_json() const {
  std::lock_guard lock(mu_);
  nlohmann::json out = nlohmann::json::object();
  nlohmann::json devices = nlohmann::json::object();
  for (const auto& d : devices_) {
    if (d.base.faults.empty()) continue;
    nlohmann::json names = nlohmann::json::array();
    for (const auto f : d.base.faults) names.push_back(std::string(to_string(f)));
    devices[std::to_string(d.base.index)] = names;
  }
  out["devices"] = devices;
  out["smi_mode"] = std::string(to_string(smi_mode_));
  return out;
}

void FakeGpuCluster::write_state_locked() const {
  if (options_.state_file.empty()) return;
  const GpuClusterState state = snapshot_locked();
  auto tmp = options_.state_file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << state.to_json().dump() << "\n";
    if (!out.flush()) throw Error("fake gpu: cannot write state file " + tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options_.state_file, ec);
  if (ec) throw Error("fake gpu: cannot write state file " + options_.state_file.string());
}

}  // namespace faultline::fakes::gpu
