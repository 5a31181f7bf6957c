// Environment: the stack a scenario runs against, brought up (fake, local) or attached to
// (external), with a fault proxy in front of every networked service, and the clients the
// workloads share.
//
// In fake mode the clock is a ManualClock and every component (fakes, proxies, pool, alert rules)
// runs on it; on local and external it is a RealClock. Workloads reach a service through
// `address(service)` — its proxy — so a partition or a latency spike is a toxic on that proxy and
// works the same on every backend. The application's connection pool is one per environment
// (`pool()`), as one application process would have, so a fault that holds connections and the
// order workload compete for the same bound.
//
// Thread safety: one thread (the runner's) drives an Environment; the OpDriver's worker runs
// operations on its behalf, one at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chaos/engine/op_driver.h"
#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/core/rng.h"
#include "harness/stack/backend.h"
#include "harness/stack/stack.h"

namespace faultline::clients {
class ConnectionPool;
struct PoolConfig;
}  // namespace faultline::clients
namespace faultline::proxy {
class ProxyServer;
}
namespace faultline::netns {
class NetworkNamespace;
}
namespace faultline {
class EventLoop;
class RunDirectory;
}  // namespace faultline

namespace faultline::chaos {

struct EnvironmentOptions {
  std::string backend = "fake";                     // fake | local | external
  std::optional<std::filesystem::path> stack_file;  // empty: the embedded default stack
  std::uint64_t seed = 0;
  std::filesystem::path journal_path;  // journal.jsonl of the run
};

// The embedded default stack (fixtures/stacks/default.yaml, compiled in).
stack::Stack default_stack();
// The stack a scenario names: "" or "default" -> the default; else a file, relative to `base`.
stack::Stack load_scenario_stack(const std::string& name, const std::filesystem::path& base);

class Environment {
 public:
  Environment(EnvironmentOptions options, stack::Stack stack);
  ~Environment();  // stops everything it started
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  const std::string& backend() const;
  const stack::Stack& stack() const;
  Clock& clock();
  ManualClock* manual_clock();  // nullptr on real time
  Journal& journal();
  OpDriver& driver();
  Rng rng(const std::string& name) const;
  proxy::ProxyServer& proxies();
  // The run's directory (removed with the run; heal actions of faults are registered there) and
  // the event loop the fakes serve on: for workloads that keep files (backups) or make fakes.
  RunDirectory& run_directory();
  EventLoop& loop();

  // Brings the services the scenario needs up (fake, local) or checks they answer (external),
  // then puts a proxy in front of each. Throws Error naming a service that cannot come up.
  void start(const std::vector<std::string>& services);
  // Before start(): `service` runs in its own network namespace (local backend: a redis or
  // postgres; LocalBackend::isolate_network), its endpoint the namespace's address on the veth,
  // which its proxy may then reach (that address only). Returns why it cannot (another backend,
  // not root, no iproute2 or iptables...), or nullopt.
  std::optional<std::string> isolate_network(const std::string& service);
  // The namespace `service` runs in, or nullptr.
  std::shared_ptr<netns::NetworkNamespace> network_namespace(const std::string& service) const;
  // One pass of health monitoring (restarts by restart policy on fake and local).
  void monitor();
  void stop();

  // The running handle of a service, or nullptr.
  stack::ServiceHandle* handle(const std::string& service) const;
  // "127.0.0.1:PORT" of the proxy in front of `service`; for a service off loopback that the stack
  // does not mark chaos-allowed (external), its own address: no proxy, so no fault, reaches it.
  // Throws Error if it has neither.
  std::string address(const std::string& service) const;
  // The proxy's name for `service` (the subject of proxy faults).
  std::string proxy_name(const std::string& service) const;
  bool chaos_allowed(const std::string& service) const;
  // The application's pool to `service` (a postgres), made on first use with `config`'s bounds.
  clients::ConnectionPool& pool(const std::string& service, const nlohmann::json& params);
  clients::ConnectionPool* existing_pool() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::chaos
