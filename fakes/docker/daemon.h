// DockerDaemon: the fake engine's state and behaviour, without HTTP — containers, networks,
// images, events, health probes, restart policies, capacity and faults. The router (router.cpp)
// maps API requests onto it; FakeDockerEngine's controls call it directly.
//
// Operations throw ApiError with dockerd's status code and message. Time (timestamps, probes,
// restart backoff, stop timeouts) is the Clock's; timers hold only a weak reference, so a timer
// firing after the daemon is gone does nothing.
//
// Thread safety: every public member takes the daemon's lock, so any thread may call it,
// including Clock timer callbacks. Callbacks it stores (waiters, event subscribers) are called
// with the lock held: they must only hand work to another thread (post to a loop).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/docker/api_version.h"
#include "fakes/docker/container.h"
#include "fakes/docker/events.h"
#include "fakes/docker/fake_docker.h"
#include "harness/core/clock.h"

namespace faultline::fakes::docker {

class ProcessBacking;

struct Network {
  std::string id;
  std::string name;
  std::string driver = "bridge";
  std::map<std::string, std::string> labels;
  std::string subnet, gateway;  // "172.18.0.0/16", "172.18.0.1"
  int subnet_index = 0;         // second octet's offset
  int next_host = 2;
  bool predefined = false;
  bool internal = false;
  std::chrono::system_clock::time_point created;
};

// "docker.io/library/redis" -> "redis:latest": the short form images are held and compared in.
std::string normalized_image(const std::string& ref);

class DockerDaemon : public std::enable_shared_from_this<DockerDaemon> {
 public:
  DockerDaemon(Clock& clock, const FakeDockerOptions& options);
  ~DockerDaemon();

  const ApiVersion& min_version() const { return min_; }
  const ApiVersion& max_version() const { return max_; }
  Clock& clock() { return clock_; }

  // --- system ---
  nlohmann::json version_json() const;
  nlohmann::json info_json() const;

  // --- containers (container_ops.cpp) ---
  nlohmann::json create(const std::string& name, const nlohmann::json& body);
  // Returns false when already running (the router answers 304).
  bool start(const std::string& ref);
  // `done` is called (under the lock) once the container has stopped; returns false when it was
  // not running (304, done not called).
  using Done = std::function<void()>;
  bool stop(const std::string& ref, std::optional<int> timeout_s, Done done);
  void kill(const std::string& ref, const std::string& signal);
  void restart(const std::string& ref, std::optional<int> timeout_s, Done done);
  void pause(const std::string& ref, bool by_api = true);
  void unpause(const std::string& ref);
  // Calls `done(result json)` when `condition` ("not-running", "next-exit", "removed") holds.
  void wait(const std::string& ref, const std::string& condition,
            std::function<void(nlohmann::json)> done);
  void remove(const std::string& ref, bool force);
  nlohmann::json inspect(const std::string& ref) const;
  nlohmann::json list(bool all, const EventFilters& filters) const;
  std::vector<LogLine> logs(const std::string& ref, bool stdout_wanted, bool stderr_wanted) const;

  // --- images (images.cpp) ---
  void pull(const std::string& image, const std::string& tag);  // throws 404 when not pullable
  nlohmann::json list_images() const;
  nlohmann::json inspect_image(const std::string& ref) const;

  // --- networks (networks.cpp) ---
  nlohmann::json create_network(const nlohmann::json& body);
  nlohmann::json inspect_network(const std::string& ref) const;
  nlohmann::json list_networks(const EventFilters& filters) const;
  void remove_network(const std::string& ref);
  void connect(const std::string& network, const std::string& container,
               const nlohmann::json& endpoint_config);
  void disconnect(const std::string& network, const std::string& container, bool force);

  // --- volumes (process_runtime.cpp; only with the process backing) ---
  bool has_volumes() const { return backing_ != nullptr; }
  nlohmann::json create_volume(const std::string& name);  // an existing one is answered as is
  nlohmann::json inspect_volume(const std::string& name) const;
  void remove_volume(const std::string& name);  // 404 unknown, 409 in use by a container

  // --- events ---
  std::vector<nlohmann::json> event_history(std::int64_t since_ns, std::int64_t until_ns,
                                            const EventFilters& filters) const;
  std::uint64_t subscribe(EventFilters filters, EventLog::Subscriber fn);
  void unsubscribe(std::uint64_t id);
  std::int64_t wall_now_ns() const;

  // --- faults (faults.cpp) ---
  void die(const std::string& ref, int exit_code);
  void oom_kill(const std::string& ref);
  void set_unhealthy(const std::string& ref, bool on);
  void set_flapping(const std::string& ref, int period);
  void set_ignores_sigterm(const std::string& ref, bool on);
  void append_log(const std::string& ref, const std::string& text, int stream);
  void set_capacity(std::int64_t memory_bytes, int cpus);
  void heal_health_overrides();

  std::optional<ContainerState> state(const std::string& ref) const;
  std::vector<ContainerState> states() const;

 private:
  friend struct DaemonInternals;
  using Lock = std::lock_guard<std::recursive_mutex>;

  // All below require mu_ held.
  Container& find(const std::string& ref);
  const Container* find_or_null(const std::string& ref) const;
  Network& find_network(const std::string& ref);
  const Network* find_network_or_null(const std::string& ref) const;
  std::string new_id();
  std::chrono::system_clock::time_point wall() const { return clock_.wall_now(); }
  void emit_container(const Container& c, const std::string& action,
                      std::map<std::string, std::string> extra = {});
  void emit_network(const Network& n, const std::string& action, const std::string& container);
  void check_capacity(const Container& c) const;
  void do_start(Container& c);  // throws ApiError on capacity
  // The main process ended: records it, fires waiters, applies the restart policy.
  void on_exit(Container& c, int exit_code, bool by_api);
  void schedule_probe(Container& c, std::chrono::nanoseconds delay);
  void run_probe(const std::string& id);
  // One probe's result: health log, failing streak, status and its event.
  void record_probe(Container& c, bool pass, int exit_code, std::string output,
                    std::chrono::system_clock::time_point started);

  // Process backing (process_runtime.cpp); all require mu_ held except the *_done/_exited
  // callbacks, which take it.
  void prepare_local(Container& c);  // at create: image, mounts, port
  void spawn_local(Container& c);    // at start; throws ApiError when it cannot run
  void local_exited(const std::string& id, std::uint64_t generation, int code);
  // `sig` to the process (SIGKILL: its group); with `forced_exit_code`, the exit records that.
  void kill_local(Container& c, int sig, std::optional<int> forced_exit_code = std::nullopt);
  void end_local(Container& c);        // SIGKILL, reaped before it returns (remove)
  bool run_local_probe(Container& c);  // false: not a local probe (the state machine's runs)
  void local_probe_done(const std::string& id, std::uint64_t generation,
                        std::chrono::system_clock::time_point started, int code,
                        const std::string& output);
  std::vector<LogLine> local_logs(const Container& c, bool out, bool err) const;
  void attach_endpoint(Container& c, Network& n, const std::vector<std::string>& aliases);
  void detach_endpoints(Container& c);
  void cancel_timers(Container& c);
  ContainerState state_of(const Container& c) const;
  std::map<std::string, std::string> network_ids() const;
  bool image_present(const std::string& ref) const;

  Clock& clock_;
  FakeDockerOptions options_;
  std::unique_ptr<ProcessBacking> backing_;  // with options_.process_backing
  ApiVersion min_, max_;
  mutable std::recursive_mutex mu_;
  std::map<std::string, Container> containers_;  // by id
  std::map<std::string, Network> networks_;      // by id
  std::set<std::string> images_;                 // when options_.images is not empty
  EventLog events_;
  struct Waiter {
    std::string condition;
    std::function<void(nlohmann::json)> done;
  };
  std::multimap<std::string, Waiter> waiters_;  // by container id
  std::multimap<std::string, Done> stop_waiters_;
  std::uint64_t id_counter_ = 0;
  int next_pid_ = 4242;
  int next_subnet_ = 1;
};

}  // namespace faultline::fakes::docker
