// WaitStrategy: how the Orchestrator decides that a service it started is ready — composable, as
// Testcontainers' wait strategies are.
//
// Leaves: the endpoint's (or a given) TCP port accepts a connection; a regex appears N times in
// the service's log; a command run on the harness's host exits 0 (with the endpoint's exports —
// PGHOST, REDIS_URL... — and FAULTLINE_HOST/FAULTLINE_PORT in its environment); a SQL query
// succeeds through psql against the endpoint's url; an HTTP GET on the endpoint answers a status
// (and a body matching a regex); the backend's health status (ServiceHandle::probe(): the compose
// healthcheck the engine runs, or the backend's own readiness check). Combinators: all_of (every
// child, each latched once it has held) and any_of (one child). Any strategy may carry a timeout:
// once it has passed since begin() without the condition holding, the wait has failed (the
// Orchestrator's health timeout bounds the whole wait in any case).
//
// The default for a service without `wait:` is all_of(port open where the endpoint has a port,
// the kind's readiness line in the log where the backend keeps one, the health status) — a port
// can open before the server is ready and a log line can precede the listener, so Testcontainers
// came to wait for both.
//
// Thread safety: a strategy belongs to one service's start; one thread calls it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "harness/core/clock.h"
#include "harness/stack/backend.h"
#include "harness/stack/stack.h"

namespace faultline::stack {

struct WaitResult {
  enum class State { waiting, ready, failed };
  State state = State::waiting;
  std::string detail;  // what was seen, for the journal and for the error
  bool ready() const { return state == State::ready; }
  bool failed() const { return state == State::failed; }
};

class WaitStrategy {
 public:
  virtual ~WaitStrategy() = default;
  // Called when the service has been started, before the first check (each start: composites
  // forget what had held and the timeout counts from `now`).
  void begin(TimePoint now);
  // One look at the service: ready, still waiting, or failed (its timeout passed).
  WaitResult check(ServiceHandle& handle, TimePoint now);
  // "port 5432", "log /ready/ x2", "all_of(port, health)".
  virtual std::string describe() const = 0;
  void set_timeout(std::optional<std::chrono::milliseconds> timeout) { timeout_ = timeout; }

 protected:
  virtual void reset(TimePoint now) { (void)now; }
  virtual WaitResult look(ServiceHandle& handle, TimePoint now) = 0;

 private:
  TimePoint begun_{};
  std::optional<std::chrono::milliseconds> timeout_;
};

// Builds the strategy `spec` describes. Throws InputError (at spec.where) for what cannot be
// built: a bad regex, an empty command, a combinator without children.
std::unique_ptr<WaitStrategy> make_wait_strategy(const WaitSpec& spec);
// The wait for `service` as `handle` runs it: its `wait:` spec, or the default described above.
std::unique_ptr<WaitStrategy> wait_strategy_for(const Service& service,
                                                const ServiceHandle& handle);
// The default readiness line of a kind's log ("" for kinds without one).
std::string default_log_pattern(ServiceKind kind);

}  // namespace faultline::stack
