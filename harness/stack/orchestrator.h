// Orchestrator: the seed's DockerManager — brings a Stack up through a Backend, keeps it healthy,
// and takes it down.
//
// start_services() starts the services level by level (every dependency in an earlier level),
// the services of one level together, and waits for each to become ready (its wait strategy holds,
// see wait_strategy.h: by default its port, its readiness log line where the backend keeps logs,
// and its health probe; for a service others need to complete, exit 0) within the health timeout. A
// service that never becomes ready, or that the backend cannot host, is an error naming the service
// and its last probe; its dependents are not started and everything already started is stopped.
// monitor_health() notices services that exited or failed their probe `retries` times in a row and
// restarts them as their restart policy allows (at most SERVICE_RESTART_ATTEMPTS times, exponential
// backoff on the Clock); a restarted service has the health timeout to become ready again before
// its failed probes count (its status reads running meanwhile, with the last probe as detail).
// stop_services() stops in reverse order, gracefully. Every transition is journaled.
//
// Thread safety: one thread drives an Orchestrator.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/stack/backend.h"
#include "harness/stack/stack.h"

namespace faultline::stack {

// The seed's ServiceStatus contract.
struct ServiceStatus {
  enum class State { running, stopped, error };
  std::string service_name;
  State status = State::stopped;
  std::int64_t uptime_seconds = 0;              // >= 0; since the current start
  std::optional<std::string> health_check_url;  // null when the service has none
  int restarts = 0;
  std::string detail;  // the last probe or error
};
std::string_view to_string(ServiceStatus::State state);

struct OrchestratorOptions {
  std::chrono::milliseconds health_timeout{30'000};  // HEALTH_CHECK_TIMEOUT
  int restart_attempts = 3;                          // SERVICE_RESTART_ATTEMPTS
  std::chrono::milliseconds backoff_base{1'000};     // doubles per attempt
  std::chrono::milliseconds backoff_max{60'000};
  std::chrono::milliseconds stop_grace{10'000};
  std::chrono::milliseconds poll_interval{100};  // between probes while waiting (at most)
  bool keep_data = false;  // start persistent services with the data of an earlier run
  // The first wait between probes of a starting level; it doubles up to poll_interval, so a
  // service ready in 20 ms is seen within a few ms of it and a slow one is not probed in a loop.
  std::chrono::milliseconds first_poll_interval{2};
};

// A service did not come up: which one, and what its probe said last.
class StartError : public Error {
 public:
  StartError(std::string service, std::string detail);
  const std::string& service() const { return service_; }

 private:
  std::string service_;
};

class Orchestrator {
 public:
  Orchestrator(const Stack& stack, Backend& backend, Clock& clock, Journal* journal = nullptr,
               OrchestratorOptions options = {});
  ~Orchestrator();  // stops whatever is still running
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  std::vector<ServiceStatus> start_services();
  std::vector<ServiceStatus> monitor_health();
  void stop_services();
  std::vector<ServiceStatus> status() const;

  // The running handle of a service (for clients and fault hooks), or nullptr.
  ServiceHandle* handle(const std::string& service) const;

 private:
  struct Entry;
  void start_one(Entry& e);
  bool ready(Entry& e);
  void stop_one(Entry& e, const char* why);
  void journal(const std::string& kind, const Entry& e, nlohmann::json fields = {});
  ServiceStatus status_of(const Entry& e) const;

  const Stack& stack_;
  Backend& backend_;
  Clock& clock_;
  Journal* journal_;
  OrchestratorOptions options_;
  std::vector<std::vector<const Service*>> levels_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace faultline::stack
