// DockerClient: our Docker Engine API client (HTTP/1.1 over a unix socket or TCP), used by the
// docker backend and the orchestrator, and tested against fakes/docker.
//
// The endpoint comes from DOCKER_HOST (unix:///path, tcp://host:port) or defaults to
// unix:///var/run/docker.sock. The first call negotiates the API version as the docker CLI does:
// GET /_ping, then use min(our version, the daemon's API-Version header); every later request is
// sent on the versioned path (/v1.xx/...). A daemon answering an error status throws
// DockerApiError with the status and the daemon's {"message"}; a transport failure (nothing
// listening, connection reset, timeout) throws DockerUnavailable.
//
// Thread safety: one DockerClient may be used from several threads; each call opens its own
// connection (the daemon is local, and a blocked /wait or /events must not hold up others).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/error.h"

namespace faultline::clients {

class DockerApiError : public Error {
 public:
  DockerApiError(int status, std::string message);
  int status() const { return status_; }
  const std::string& daemon_message() const { return daemon_message_; }

 private:
  int status_;
  std::string daemon_message_;
};

class DockerUnavailable : public Error {
 public:
  using Error::Error;
};

struct DockerHost {
  std::string unix_path;  // set for unix://
  std::string host;       // set for tcp://
  std::uint16_t port = 0;
  // Parses "unix:///path" or "tcp://host:port"; throws UsageError naming the value otherwise.
  static DockerHost parse(const std::string& text);
  // DOCKER_HOST from the environment, or unix:///var/run/docker.sock.
  static DockerHost from_environment();
  std::string str() const;
};

struct HealthcheckSpec {
  std::vector<std::string> test;  // e.g. {"CMD-SHELL", "pg_isready"}
  std::chrono::nanoseconds interval{0}, timeout{0}, start_period{0};
  int retries = 0;
};

struct ContainerSpec {
  std::string name;  // empty: the daemon picks one
  std::string image;
  std::vector<std::string> cmd;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> labels;
  std::optional<HealthcheckSpec> healthcheck;
  std::string restart_policy = "no";  // no, on-failure[:N], always, unless-stopped
  std::int64_t memory_bytes = 0;      // 0 = no limit
  std::int64_t nano_cpus = 0;         // 1e9 = one CPU; 0 = no limit
  std::vector<std::string> networks;  // the first becomes NetworkMode; the rest connected after
};

struct ContainerInfo {
  std::string id;
  std::string name;  // without the leading '/'
  std::string image;
  std::string status;  // created, running, paused, restarting, removing, exited, dead
  bool running = false, paused = false, restarting = false, oom_killed = false, dead = false;
  int pid = 0;
  int exit_code = 0;
  int restart_count = 0;
  std::string started_at, finished_at;  // RFC 3339, as the daemon reports them
  std::string health;                   // "", starting, healthy, unhealthy
  int failing_streak = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> networks;  // network name -> IPv4 address
  nlohmann::json raw;                           // the whole inspect document
};

struct ContainerSummary {  // one row of GET /containers/json
  std::string id;
  std::vector<std::string> names;  // with the leading '/', as the daemon lists them
  std::string image;
  std::string state;   // running, exited, ...
  std::string status;  // "Up 3 seconds", "Exited (1) 2 seconds ago"
  std::map<std::string, std::string> labels;
};

struct NetworkInfo {
  std::string id;
  std::string name;
  std::string driver;
  std::map<std::string, std::string> labels;
  std::vector<std::string> containers;  // container ids with an endpoint on it
};

struct DockerEvent {
  std::string type;    // container, network, image, ...
  std::string action;  // create, start, die, oom, kill, stop, destroy, health_status: healthy ...
  std::string id;      // Actor.ID
  std::map<std::string, std::string> attributes;  // Actor.Attributes (name, image, exitCode...)
  std::int64_t time_nano = 0;
};

// Filters as dockerd takes them: {"label": ["a=b"], "name": ["web"], "status": ["running"]}.
using DockerFilters = std::map<std::string, std::vector<std::string>>;

class DockerClient {
 public:
  // `api_version`: the highest version we speak; negotiation may lower it. `timeout` bounds
  // every call except wait() and events streams, which take their own bound.
  explicit DockerClient(DockerHost host, std::string api_version = "1.47",
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~DockerClient();
  DockerClient(const DockerClient&) = delete;
  DockerClient& operator=(const DockerClient&) = delete;

  const DockerHost& host() const;
  // Negotiates (once) and returns the version in use, e.g. "1.47".
  std::string api_version();
  // GET /_ping: true when the daemon answers "OK".
  bool ping();
  nlohmann::json version();
  nlohmann::json info();

  // Containers. `container` is an id, id prefix or name.
  std::string create_container(const ContainerSpec& spec);  // returns the id
  void start(const std::string& container);                 // already running: no error (304)
  void stop(const std::string& container, std::optional<int> timeout_seconds = std::nullopt);
  void kill(const std::string& container, const std::string& signal = "SIGKILL");
  void restart(const std::string& container, std::optional<int> timeout_seconds = std::nullopt);
  void pause(const std::string& container);
  void unpause(const std::string& container);
  // Blocks until the container is not running (condition "not-running") and returns its exit
  // code; throws DockerUnavailable when `bound` passes first.
  int wait(const std::string& container,
           std::chrono::milliseconds bound = std::chrono::seconds(60));
  ContainerInfo inspect(const std::string& container);
  std::optional<ContainerInfo> try_inspect(const std::string& container);  // nullopt on 404
  std::vector<ContainerSummary> list_containers(bool all = true, const DockerFilters& = {});
  void remove_container(const std::string& container, bool force = false);
  // stdout and stderr, demultiplexed and concatenated in order.
  std::string logs(const std::string& container);

  // Networks.
  std::string create_network(const std::string& name,
                             const std::map<std::string, std::string>& labels = {});
  NetworkInfo inspect_network(const std::string& network);
  std::vector<NetworkInfo> list_networks();
  void remove_network(const std::string& network);
  void connect(const std::string& network, const std::string& container);
  void disconnect(const std::string& network, const std::string& container, bool force = false);

  // Images: POST /images/create (a pull), consuming its progress stream.
  void pull(const std::string& image);

  // Events recorded between two times (unix seconds, as dockerd's since/until), a finite list.
  std::vector<DockerEvent> events(std::int64_t since, std::int64_t until,
                                  const DockerFilters& filters = {});
  // Follows the live /events stream, calling `on_event` for each, until it returns false or
  // `bound` passes (then returns false). Returns true when `on_event` stopped it.
  bool follow_events(const std::function<bool(const DockerEvent&)>& on_event,
                     std::chrono::milliseconds bound, const DockerFilters& filters = {});

  // A raw request, for what the methods above do not cover. Returns status and body; does not
  // throw on an error status. `path` is unversioned ("/containers/json").
  struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };
  Reply request(const std::string& method, const std::string& path, const std::string& body = "",
                bool versioned = true);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::clients
