#include "fakes/redis/faults.h"

#include <chrono>

namespace faultline::fakes::redis {

std::optional<Duration> RedisFaultState::latency_for(const std::string& command) const {
  if (latency.empty()) return std::nullopt;
  if (const auto it = latency.find(command); it != latency.end()) return it->second;
  if (const auto it = latency.find("*"); it != latency.end()) return it->second;
  return std::nullopt;
}

nlohmann::json RedisFaultState::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  const auto flag = [&](bool on, const char* name) {
    if (on) j[name] = nlohmann::json::object();
  };
  flag(refuse_connections, "refuse_connections");
  flag(paused, "pause");
  flag(oom, "oom");
  flag(loading, "loading");
  flag(readonly, "readonly");
  if (!command_errors.empty()) {
    auto& errors = j["command_error"] = nlohmann::json::object();
    for (const auto& [cmd, err] : command_errors) errors[cmd] = err;
  }
  if (!latency.empty()) {
    auto& delays = j["latency"] = nlohmann::json::object();
    for (const auto& [cmd, d] : latency) {
      delays[cmd] = std::chrono::duration<double, std::milli>(d).count();
    }
  }
  if (close_after) j["close_after"] = {{"commands", *close_after}};
  return j;
}

const std::vector<std::string>& fault_names() {
  static const std::vector<std::string> names = {
      "refuse_connections", "close_clients", "pause",   "oom",        "loading",
      "readonly",           "command_error", "latency", "close_after"};
  return names;
}

}  // namespace faultline::fakes::redis
