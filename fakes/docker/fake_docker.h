// FakeDockerEngine: an in-process Docker daemon that speaks the Docker Engine HTTP API on a unix
// socket (and optionally on a loopback TCP port), so the docker CLI, dockerode and our own
// DockerClient talk to it unchanged.
//
// Containers are state machines on the harness Clock (no processes run, see README.md): create,
// start, stop, kill, restart, pause/unpause, wait, remove, health checks, restart policies with
// dockerd's backoff (100 ms doubling to 1 min, reset after 10 s of running), and a memory/CPU
// capacity. Networks are name/id records with container endpoints. The fault controls below are
// what the chaos catalogue uses: a container dying or OOM-killed, unhealthy or flapping, paused
// behind the caller's back, cut from a network; the daemon stalling or answering 5xx.
// With `process_backing` (off by default) a container whose image maps to a program on this
// machine (local_images.h) runs as a real process instead: its exit, signals, logs and health
// checks are the process's (README.md "Process backing"); the faults act on the process
// (die/oom_kill SIGKILL it and record their exit code).
//
// Containers and networks are named by id, id prefix or name, as dockerd resolves them.
// Every control throws NotFound for an unknown container or network.
//
// Thread safety: every member function may be called from any thread except the EventLoop's own
// (the HTTP server runs there; controls take the daemon's lock and never wait on the loop, so
// they may also run inside Clock timer callbacks, e.g. from ManualClock::advance).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/docker/local_images.h"
#include "harness/core/error.h"

namespace faultline {
class Clock;
class EventLoop;
class RunDirectory;
}  // namespace faultline

namespace faultline::fakes::docker {

// An unknown container or network named in a control call.
class NotFound : public Error {
 public:
  using Error::Error;
};

// Process backing (README.md "Process backing"): a container whose image maps to a program on this
// machine runs as a real process, supervised in `run`; other images stay state machines. Give
// the engine a RealClock: stop timeouts and health probe timeouts are real time for a process.
struct ProcessBackingOptions {
  RunDirectory* run = nullptr;  // required: processes are recorded there (the watchdog's list)
  // Containers' working directories and named volumes; empty: a new folder in `run`. Removed
  // with the engine.
  std::filesystem::path root;
  // image -> its local program; empty: map_local_image (local_images.h).
  std::function<std::optional<LocalImage>(const std::string& image)> resolve;
};

struct FakeDockerOptions {
  // The unix socket to listen on. Empty: no unix socket (then tcp_port must be set). An existing
  // socket file at this path is replaced; a non-socket file is an error.
  std::string socket_path;
  // Also listen on 127.0.0.1:<port> (0 = an ephemeral port); nullopt = no TCP listener.
  std::optional<std::uint16_t> tcp_port;
  // API versions served, as dockerd's /_ping and /version report them.
  std::string min_api_version = "1.24";
  std::string max_api_version = "1.47";
  // Host capacity: creating a container whose NanoCpus exceed the CPUs fails at create (400, as
  // dockerd); starting containers whose memory limits together exceed memory fails at start (500,
  // see README.md). 0 = unlimited.
  std::int64_t memory_bytes = 16LL << 30;
  int cpus = 8;
  // Images the daemon holds. Empty list (default): every image name is present. Otherwise create
  // with another image answers 404 "No such image: <ref>" and /images/create pulls it when it is
  // in `pullable` (or when `pullable` is empty), else 404 as a registry would refuse it.
  std::vector<std::string> images;
  std::vector<std::string> pullable;
  std::string name = "faultline-fake-docker";  // /info Name
  // Off (nullopt, the default): no container runs a process.
  std::optional<ProcessBackingOptions> process_backing;
};

// A container's state as the fake holds it (the same values /containers/{id}/json reports).
struct ContainerState {
  std::string id;
  std::string name;    // without the leading '/'
  std::string status;  // created, running, paused, restarting, removing, exited, dead
  std::string health;  // "", starting, healthy, unhealthy
  int exit_code = 0;
  bool oom_killed = false;
  int restart_count = 0;
  int pid = 0;
  std::map<std::string, std::string> networks;  // network name -> IPv4 address
};

class FakeDockerEngine {
 public:
  // Validates the options (throws Error naming the bad option) and starts listening on `loop`. The
  // daemon's time (timestamps, health probes, restart backoff, stop timeouts) is `clock`.
  FakeDockerEngine(EventLoop& loop, Clock& clock, FakeDockerOptions options);
  ~FakeDockerEngine();  // stops listening, closes connections, removes the socket file
  FakeDockerEngine(const FakeDockerEngine&) = delete;
  FakeDockerEngine& operator=(const FakeDockerEngine&) = delete;

  // "unix:///path/to/socket" (for DOCKER_HOST), or "tcp://127.0.0.1:port" without a socket.
  std::string docker_host() const;
  const std::string& socket_path() const;
  std::optional<std::uint16_t> tcp_port() const;

  // --- container faults ---
  // The main process exits with `exit_code` (a "die" event; restart policy applies).
  void die(const std::string& container, int exit_code);
  // The kernel OOM-kills it: State.OOMKilled, exit code 137, "oom" then "die" events.
  void oom_kill(const std::string& container);
  // Health probes fail from now on (unhealthy after Retries failures), or pass again.
  void set_unhealthy(const std::string& container, bool unhealthy);
  // Health probes alternate pass/fail in runs of `period` probes (0 = stop flapping).
  void set_flapping(const std::string& container, int period);
  // From now on the container ignores SIGTERM: `docker stop` waits its timeout, then SIGKILLs
  // (exit 137), on the Clock.
  void set_ignores_sigterm(const std::string& container, bool on);
  // Freezes the container as `docker pause` does (a "pause" event), behind the client's back.
  void pause(const std::string& container);
  // Removes the container's endpoint on `network` (a partition); "disconnect" event.
  void disconnect(const std::string& container, const std::string& network);
  // Appends to what /containers/{id}/logs returns (stream 1 = stdout, 2 = stderr).
  void append_log(const std::string& container, const std::string& text, int stream = 1);

  // --- daemon faults ---
  // While stalled, requests are read but not answered; when released they are answered in order.
  void stall(bool stalled);
  // While set, every request (including /_ping) is answered `status` with {"message": message}.
  void fail_requests(int status, const std::string& message = "fake daemon failure");
  void clear_failures();
  // Heals every daemon fault (stall, 5xx) and every health override.
  void heal_all();

  // --- capacity ---
  void set_capacity(std::int64_t memory_bytes, int cpus);

  // --- inspection for tests and the control endpoint ---
  std::optional<ContainerState> container(const std::string& name_or_id) const;
  std::vector<ContainerState> containers() const;
  // The same JSON as GET /containers/json?all=1, /networks, /events?until=now (for debugging).
  nlohmann::json snapshot() const;
  // Number of requests answered so far (any status).
  std::uint64_t requests_served() const;

  // Applies a fault described as JSON, the form the control endpoint accepts:
  // {"fault":"die","container":"x","exit_code":3}, {"fault":"oom_kill",...},
  // {"fault":"unhealthy","container":"x","on":true}, {"fault":"flapping","container":"x",
  // "period":2}, {"fault":"ignore_sigterm","container":"x","on":true}, {"fault":"pause",...},
  // {"fault":"disconnect","container":"x","network":"n"},
  // {"fault":"stall","on":true}, {"fault":"http_error","status":500,"message":"..."},
  // {"fault":"capacity","memory_bytes":N,"cpus":N}, {"fault":"heal_all"}. Throws Error (bad
  // request) or NotFound.
  void apply_fault(const nlohmann::json& fault);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace faultline::fakes::docker
