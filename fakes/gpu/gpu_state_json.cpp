// The state file's JSON form of GpuDeviceState and GpuClusterState (see gpu_model.h).
#include <fstream>
#include <sstream>

#include "fakes/gpu/gpu_model.h"
#include "harness/core/error.h"

namespace faultline::fakes::gpu {

namespace {

template <class T>
T field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) {
    throw Error(std::string("gpu state: missing field '") + key + "'");
  }
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(std::string("gpu state: field '") + key + "' has the wrong type");
  }
}

}  // namespace

nlohmann::json GpuDeviceState::to_json() const {
  nlohmann::json xids = nlohmann::json::array();
  for (const auto& x : xid_events) {
    xids.push_back({{"code", x.code}, {"at_ns", x.at_ns}, {"description", x.description}});
  }
  nlohmann::json fault_names = nlohmann::json::array();
  for (const auto f : faults) fault_names.push_back(std::string(to_string(f)));
  return {{"index", index},
          {"name", name},
          {"uuid", uuid},
          {"serial", serial},
          {"pci_bus_id", pci_bus_id},
          {"memory_total_mib", memory_total_mib},
          {"memory_reserved_mib", memory_reserved_mib},
          {"memory_used_mib", memory_used_mib},
          {"utilization_gpu", utilization_gpu},
          {"utilization_memory", utilization_memory},
          {"temperature_c", temperature_c},
          {"power_draw_w", power_draw_w},
          {"power_limit_w", power_limit_w},
          {"ecc_corrected_volatile", ecc_corrected_volatile},
          {"ecc_uncorrected_volatile", ecc_uncorrected_volatile},
          {"ecc_corrected_aggregate", ecc_corrected_aggregate},
          {"ecc_uncorrected_aggregate", ecc_uncorrected_aggregate},
          {"hw_thermal_slowdown", hw_thermal_slowdown},
          {"pstate", pstate},
          {"xid_events", xids},
          {"faults", fault_names},
          {"health", std::string(to_string(health))}};
}

GpuDeviceState GpuDeviceState::from_json(const nlohmann::json& j) {
  GpuDeviceState s;
  s.index = field<int>(j, "index");
  s.name = field<std::string>(j, "name");
  s.uuid = field<std::string>(j, "uuid");
  s.serial = field<std::string>(j, "serial");
  s.pci_bus_id = field<std::string>(j, "pci_bus_id");
  s.memory_total_mib = field<std::uint64_t>(j, "memory_total_mib");
  s.memory_reserved_mib = field<std::uint64_t>(j, "memory_reserved_mib");
  s.memory_used_mib = field<std::uint64_t>(j, "memory_used_mib");
  s.utilization_gpu = field<int>(j, "utilization_gpu");
  s.utilization_memory = field<int>(j, "utilization_memory");
  s.temperature_c = field<int>(j, "temperature_c");
  s.power_draw_w = field<double>(j, "power_draw_w");
  s.power_limit_w = field<double>(j, "power_limit_w");
  s.ecc_corrected_volatile = field<std::uint64_t>(j, "ecc_corrected_volatile");
  s.ecc_uncorrected_volatile = field<std::uint64_t>(j, "ecc_uncorrected_volatile");
  s.ecc_corrected_aggregate = field<std::uint64_t>(j, "ecc_corrected_aggregate");
  s.ecc_uncorrected_aggregate = field<std::uint64_t>(j, "ecc_uncorrected_aggregate");
  s.hw_thermal_slowdown = field<bool>(j, "hw_thermal_slowdown");
  s.pstate = field<int>(j, "pstate");
  for (const auto& x : field<nlohmann::json>(j, "xid_events")) {
    s.xid_events.push_back({field<int>(x, "code"), field<std::int64_t>(x, "at_ns"),
                            field<std::string>(x, "description")});
  }
  for (const auto& name : field<std::vector<std::string>>(j, "faults")) {
    const auto f = gpu_fault_from_string(name);
    if (!f) throw Error("gpu state: unknown fault '" + name + "'");
    s.faults.insert(*f);
  }
  const auto health = field<std::string>(j, "health");
  bool known = false;
  for (const auto h :
       {GpuHealth::healthy, GpuHealth::degraded, GpuHealth::failed, GpuHealth::lost}) {
    if (to_string(h) == health) {
      s.health = h;
      known = true;
    }
  }
  if (!known) throw Error("gpu state: unknown health '" + health + "'");
  return s;
}

nlohmann::json GpuClusterState::to_json() const {
  nlohmann::json devs = nlohmann::json::array();
  for (const auto& d : devices) devs.push_back(d.to_json());
  return {{"host", host},
          {"driver_version", driver_version},
          {"cuda_version", cuda_version},
          {"smi_mode", std::string(to_string(smi_mode))},
          {"at_ns", at_ns},
          {"wall_unix_ms", wall_unix_ms},
          {"devices", devs}};
}

GpuClusterState GpuClusterState::from_json(const nlohmann::json& j) {
  GpuClusterState s;
  s.host = field<std::string>(j, "host");
  s.driver_version = field<std::string>(j, "driver_version");
  s.cuda_version = field<std::string>(j, "cuda_version");
  const auto mode = field<std::string>(j, "smi_mode");
  const auto parsed = smi_mode_from_string(mode);
  if (!parsed) throw Error("gpu state: unknown smi_mode '" + mode + "'");
  s.smi_mode = *parsed;
  s.at_ns = field<std::int64_t>(j, "at_ns");
  s.wall_unix_ms = field<std::int64_t>(j, "wall_unix_ms");
  const auto devs = field<nlohmann::json>(j, "devices");
  if (!devs.is_array()) throw Error("gpu state: 'devices' must be an array");
  for (const auto& d : devs) s.devices.push_back(GpuDeviceState::from_json(d));
  return s;
}

GpuClusterState GpuClusterState::read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read gpu state file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) throw Error("gpu state file " + path.string() + " is not JSON");
  try {
    return from_json(j);
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
}

}  // namespace faultline::fakes::gpu
