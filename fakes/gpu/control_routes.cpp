// route_control_request: what the GPU fake's control endpoint does with one request.
#include <charconv>

#include "fakes/gpu/control_http.h"
#include "fakes/gpu/gpu_model.h"
#include "harness/core/error.h"
#include "harness/core/text.h"

namespace faultline::fakes::gpu {

namespace {

const std::map<std::string, SmiMode> kToolingFaults = {
    {"smi_hang", SmiMode::hang},
    {"smi_malformed", SmiMode::malformed},
    {"driver_missing", SmiMode::driver_missing},
};

HttpReply error(int status, const std::string& message) {
  return HttpReply::error(status, message);
}

int device_of(const nlohmann::json& params) {
  if (!params.contains("device") || !params["device"].is_number_integer()) {
    throw InputError({}, "body needs \"device\": an index");
  }
  return params["device"].get<int>();
}

std::vector<std::string> all_fault_names() {
  auto names = gpu_fault_names();
  for (const auto& [name, mode] : kToolingFaults) names.push_back(name);
  return names;
}

HttpReply fault_request(FakeGpuCluster& cluster, const std::string& method, const std::string& name,
                        const nlohmann::json& params) {
  if (method != "POST" && method != "DELETE") return error(405, "use POST or DELETE");
  const bool inject = method == "POST";
  if (auto it = kToolingFaults.find(name); it != kToolingFaults.end()) {
    cluster.set_smi_mode(inject ? it->second : SmiMode::normal);
  } else if (const auto fault = gpu_fault_from_string(name)) {
    const int device = device_of(params);
    if (!inject) {
      cluster.heal(device, *fault);
    } else if (params.contains("duration_ms")) {
      if (!params["duration_ms"].is_number_integer() || params["duration_ms"].get<long>() <= 0) {
        throw InputError({}, "\"duration_ms\" must be a positive integer");
      }
      cluster.inject(device, *fault, std::chrono::milliseconds(params["duration_ms"].get<long>()));
    } else {
      cluster.inject(device, *fault);
    }
  } else {
    return error(400, "unknown fault '" + name + "'" + did_you_mean(name, all_fault_names()));
  }
  return HttpReply::json(
      200, {{inject ? "injected" : "healed", name}, {"faults", cluster.faults_json()}});
}

}  // namespace

HttpReply route_control_request(FakeGpuCluster& cluster, const HttpRequest& request) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  const std::string& body = request.body;
  nlohmann::json params = nlohmann::json::object();
  if (!body.empty()) {
    params = nlohmann::json::parse(body, nullptr, false);
    if (params.is_discarded()) return error(400, "body is not JSON");
    if (!params.is_object()) return error(400, "body must be a JSON object");
  }
  try {
    if (path == "/health") {
      if (method != "GET") return error(405, "use GET");
      return HttpReply::json(200, {{"status", "ok"},
                                   {"host", cluster.options().host},
                                   {"devices", cluster.device_count()}});
    }
    if (path == "/devices") {
      if (method != "GET") return error(405, "use GET");
      return HttpReply::json(200, cluster.snapshot().to_json());
    }
    if (path == "/faults") {
      if (method != "GET") return error(405, "use GET");
      return HttpReply::json(200, cluster.faults_json());
    }
    if (path == "/reset") {
      if (method != "POST") return error(405, "use POST");
      cluster.heal_all();
      return HttpReply::json(200, {{"faults", cluster.faults_json()}});
    }
    const std::string faults_prefix = "/faults/";
    if (path.rfind(faults_prefix, 0) == 0 && path.size() > faults_prefix.size()) {
      return fault_request(cluster, method, path.substr(faults_prefix.size()), params);
    }
    const std::string devices_prefix = "/devices/";
    const std::string load_suffix = "/load";
    if (path.rfind(devices_prefix, 0) == 0 &&
        path.size() > devices_prefix.size() + load_suffix.size() &&
        path.compare(path.size() - load_suffix.size(), load_suffix.size(), load_suffix) == 0) {
      if (method != "POST") return error(405, "use POST");
      const std::string index_text = path.substr(
          devices_prefix.size(), path.size() - devices_prefix.size() - load_suffix.size());
      int index = -1;
      const auto [p, ec] =
          std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
      if (ec != std::errc() || p != index_text.data() + index_text.size()) {
        return error(404, "no such resource: " + path);
      }
      const auto current = cluster.device(index);
      const int util = params.value("utilization", current.utilization_gpu);
      const auto used = params.value("memory_used_mib", current.memory_used_mib);
      cluster.set_load(index, util, used);
      return HttpReply::json(200, cluster.device(index).to_json());
    }
    return error(404, "no such resource: " + path);
  } catch (const InputError& e) {
    return error(400, e.problem());
  } catch (const nlohmann::json::exception& e) {
    return error(400, std::string("bad parameter: ") + e.what());
  }
}

}  // namespace faultline::fakes::gpu
