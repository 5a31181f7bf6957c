// The state file of a running `faultline up`: where another process (`faultline status`,
// `faultline down`, a script) finds the stack, its endpoints and each service's ServiceStatus.
//
// `faultline up` writes <run directory>/up-state.json when the stack is up and again after every
// health round (to a dot-name, then renamed, so a reader never sees half of it):
//   {"pid", "pid_start_time", "stack", "stack_file", "backend", "seed", "export_stack",
//    "run_directory", "updated", "services": [{"service_name", "status", "uptime_seconds",
//    "health_check_url", "restarts", "detail", "endpoint": {"host", "port", "url", "exports"}}],
//    "unavailable": {"<service>": "<reason>"}}
// A run directory lives under default_runs_root() (TMPDIR), so readers look there.
//
// Thread safety: the functions are thread-safe.
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/stack/orchestrator.h"

namespace faultline::backends {

inline constexpr const char* kUpStateFile = "up-state.json";

nlohmann::json to_json(const stack::ServiceStatus& status, const stack::ServiceHandle* handle);
void write_up_state(const std::filesystem::path& run_directory, const nlohmann::json& state);
// The states of `faultline up` processes still alive under `root`, oldest first.
std::vector<nlohmann::json> running_up_states(const std::filesystem::path& root);

}  // namespace faultline::backends
