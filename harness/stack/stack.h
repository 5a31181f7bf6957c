// Stack: the services a run brings up, whatever file described them.
//
// A Stack is read from faultline's own stack file (load_stack_file) or from a docker-compose.yml
// (load_compose) into the same model: services with a kind (postgres, redis, kafka, docker, gpu,
// or a generic container), image, command, environment, dependencies with their conditions,
// health check, restart policy, resource limits, ports, networks and profiles. Loaders validate
// as they read and throw InputError naming the file and line: unknown keys (with the nearest
// valid one), bad durations or sizes, a dependency on a missing service, a cycle in depends_on.
//
// Thread safety: a Stack is an immutable value once loaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/error.h"

namespace faultline::stack {

enum class ServiceKind { postgres, redis, kafka, docker, gpu, container };
std::string_view to_string(ServiceKind kind);
std::optional<ServiceKind> parse_kind(std::string_view text);
// The kind an image runs: postgres/timescaledb -> postgres, redis -> redis,
// cp-kafka/kafka/redpanda -> kafka, docker (dind) -> docker, nvidia/cuda -> gpu, else container.
ServiceKind kind_of_image(std::string_view image);

enum class Condition { started, healthy, completed_successfully };
std::string_view to_string(Condition condition);

struct Dependency {
  std::string service;
  Condition condition = Condition::started;
  bool required = true;
  SourceLocation where;
};

struct HealthCheck {
  // Compose's forms: {"CMD", args...}, {"CMD-SHELL", "command line"}; empty: none given.
  std::vector<std::string> test;
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds start_period{0};
  int retries = 3;
  bool disabled = false;
};

struct RestartPolicy {
  enum class Mode { no, always, on_failure, unless_stopped };
  Mode mode = Mode::no;
  int max_retries = 0;  // on-failure[:N]; 0 means unlimited
};

struct Limits {
  std::optional<double> cpus;
  std::optional<std::uint64_t> memory_bytes;
};

struct PortMapping {
  std::string host_ip;  // empty: any
  int host_port = 0;    // 0: not published / chosen by the engine
  int container_port = 0;
  std::string protocol = "tcp";
};

// Whether fault hooks may touch a service: the stack file's `chaos: allowed | forbidden`. Unset,
// chaos is allowed on the fake and local backends and forbidden on external ones (staging).
enum class ChaosPolicy { unset, allowed, forbidden };

// Where an existing deployment serves a service (the stack file's `external:`), for the external
// backend. Values may come from the environment (${VAR}), so a stack file names no secrets.
struct ExternalEndpoint {
  std::string host;
  int port = 0;
  std::string url;  // optional; derived from host and port when empty
};

// How the Orchestrator decides a started service is ready (harness/stack/wait_strategy.h builds
// the strategy). Written in a stack file as `wait:` (fixtures/stacks/README.md) or in compose as
// `x-faultline-wait:`; a service without one gets the default (its health probe, its port and,
// where the backend keeps its log, the kind's readiness line).
struct WaitSpec {
  enum class Kind { port, log, command, sql, http, health, all_of, any_of };
  Kind kind = Kind::health;
  int port = 0;                      // port: 0 = the endpoint's port
  std::string pattern;               // log: an ECMAScript regex searched in each line
  int times = 1;                     // log: occurrences needed
  std::vector<std::string> command;  // command: argv, run on the harness's host
  std::string sql;                   // sql: a query psql runs against the endpoint's url
  std::string path = "/";            // http: GET path on the endpoint
  int status = 200;                  // http: the status wanted
  std::string body;                  // http: a regex the body must contain; empty: any
  std::vector<WaitSpec> children;    // all_of, any_of
  std::optional<std::chrono::milliseconds> timeout;  // fails the wait once it has passed
  SourceLocation where;
};
std::string_view to_string(WaitSpec::Kind kind);

struct Service {
  std::string name;
  ServiceKind kind = ServiceKind::container;
  std::string image;
  std::vector<std::string> command;
  std::map<std::string, std::string> environment;
  std::vector<Dependency> depends_on;
  std::optional<HealthCheck> healthcheck;
  RestartPolicy restart;
  Limits limits;
  std::vector<PortMapping> ports;
  std::vector<std::string> networks;
  std::vector<std::string> profiles;
  std::vector<std::string> volumes;  // as written (compose)
  bool persistent = false;           // its data outlives a stop (compose: it has a volume)
  // Kind-specific settings (postgres: database, user; redis: maxmemory, maxmemory-policy; kafka:
  // brokers, replication-factor; gpu: devices...), from the stack file or derived from compose.
  std::map<std::string, std::string> settings;
  ChaosPolicy chaos = ChaosPolicy::unset;
  std::optional<ExternalEndpoint> external;  // stack file only
  std::optional<WaitSpec> wait;              // nullopt: the default wait
  SourceLocation where;

  std::string setting(const std::string& key, const std::string& fallback = "") const;
};

// True when fault hooks may be applied to `service` on the backend named `backend`.
bool chaos_allowed(const Service& service, std::string_view backend);

struct Stack {
  std::string name;
  std::filesystem::path file;
  std::vector<Service> services;  // in file order
  std::vector<std::string> networks;
  std::vector<std::string> warnings;  // e.g. a ${VAR} that was not set

  const Service* find(std::string_view name) const;
  // Services grouped into start levels: every service's dependencies are in earlier levels, so
  // the services of one level can start in parallel. Stop in the reverse order.
  std::vector<std::vector<const Service*>> start_levels() const;
};

// Looks up an environment variable; the default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

struct LoadOptions {
  EnvLookup env = process_environment();
  std::vector<std::string> profiles;  // active compose profiles; empty: $COMPOSE_PROFILES
};

Stack load_compose(const std::filesystem::path& file, const LoadOptions& options = {});
Stack parse_compose(std::string_view text, const std::string& file,
                    const LoadOptions& options = {});
Stack load_stack_file(const std::filesystem::path& file, const LoadOptions& options = {});
Stack parse_stack_file(std::string_view text, const std::string& file,
                       const LoadOptions& options = {});

// Checks what only the whole stack can tell: dependencies on missing services and cycles (the
// error names the cycle, "a -> b -> a"). Called by the loaders.
void validate(const Stack& stack);

}  // namespace faultline::stack
