// Container: one container as the fake daemon holds it — the configuration given at create and
// the state machine dockerd keeps (created -> running <-> paused, -> restarting -> running,
// -> exited, -> removing/dead), with health and restart bookkeeping. Rendered to dockerd's JSON
// by container_json.cpp.
//
// Thread safety: none; owned by DockerDaemon under its lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/docker/local_images.h"
#include "fakes/docker/restart_policy.h"
#include "harness/core/clock.h"

namespace faultline::fakes::docker {

struct Healthcheck {
  std::vector<std::string> test;  // empty or {"NONE"}: no health check
  std::chrono::nanoseconds interval{std::chrono::seconds(30)};
  std::chrono::nanoseconds timeout{std::chrono::seconds(30)};
  std::chrono::nanoseconds start_period{0};
  int retries = 3;
  bool enabled() const { return !test.empty() && test[0] != "NONE"; }
};

struct HealthLogEntry {
  std::chrono::system_clock::time_point start, end;
  int exit_code = 0;
  std::string output;
};

struct LogLine {
  int stream = 1;  // 1 stdout, 2 stderr
  std::string text;
};

struct Endpoint {
  std::string network_id;
  std::string endpoint_id;
  std::string ip;
  std::vector<std::string> aliases;
};

class ContainerProcess;

enum class ContainerStatus { kCreated, kRunning, kPaused, kRestarting, kRemoving, kExited, kDead };
const char* status_name(ContainerStatus s);

struct Container {
  // Configuration (from create).
  std::string id;
  std::string name;  // without '/'
  std::string image;
  std::vector<std::string> entrypoint, cmd, env;
  std::map<std::string, std::string> labels;
  Healthcheck healthcheck;
  RestartPolicy restart_policy;
  std::int64_t memory = 0;     // bytes; 0 = no limit
  std::int64_t nano_cpus = 0;  // 1e9 per CPU
  std::string network_mode = "default";
  std::string hostname;
  nlohmann::json config_json;       // Config as sent (echoed in inspect)
  nlohmann::json host_config_json;  // HostConfig as sent
  std::chrono::system_clock::time_point created;

  // State.
  ContainerStatus status = ContainerStatus::kCreated;
  int pid = 0;
  int exit_code = 0;
  std::string error;  // State.Error
  bool oom_killed = false;
  bool manually_stopped = false;
  bool started_before = false;
  int restart_count = 0;
  std::chrono::system_clock::time_point started_at{}, finished_at{};
  TimePoint started_on_clock{};
  RestartBackoff backoff;
  TimerId restart_timer = 0;
  TimerId stop_timer = 0;  // SIGKILL after the stop timeout, when SIGTERM is ignored
  bool ignores_sigterm = false;

  // Health.
  std::string health;  // "", starting, healthy, unhealthy
  int failing_streak = 0;
  std::deque<HealthLogEntry> health_log;  // last 5, as dockerd keeps
  TimerId probe_timer = 0;
  int probes_run = 0;
  bool force_unhealthy = false;
  int flapping_period = 0;

  std::map<std::string, Endpoint> endpoints;  // network name -> endpoint
  std::vector<LogLine> logs;

  // Process backing (process_runtime.cpp): set when the image maps to a local program.
  std::optional<LocalImage> local;
  std::vector<PathMapping> mounts;       // volumes and binds, and the image's data directory
  std::filesystem::path dir;             // working directory and run-<n>.out/.err
  int host_port = 0;                     // where the image's listen flag points
  std::map<std::string, int> published;  // "9090/tcp" -> host port (NetworkSettings.Ports)
  std::shared_ptr<ContainerProcess> process;
  std::uint64_t process_generation = 0;  // which process's exit is current
  int runs = 0;                          // processes started (log files run-1..run-N)
  std::optional<int> forced_exit_code;   // die/oom fault on a real process
  bool stopping = false;                 // a stop is waiting for the exit ("stop" event)
  std::shared_ptr<ContainerProcess> probe;

  bool running() const {
    return status == ContainerStatus::kRunning || status == ContainerStatus::kPaused;
  }
};

// dockerd's timestamp form: RFC 3339 with nanoseconds, "0001-01-01T00:00:00Z" for never.
std::string rfc3339(std::chrono::system_clock::time_point t);
// "Up 3 seconds", "Exited (1) 2 minutes ago", ... as GET /containers/json reports Status.
std::string human_status(const Container& c, std::chrono::system_clock::time_point now);

nlohmann::json inspect_json(const Container& c,
                            const std::map<std::string, std::string>& network_names_to_ids);
nlohmann::json summary_json(const Container& c, std::chrono::system_clock::time_point now);

}  // namespace faultline::fakes::docker
