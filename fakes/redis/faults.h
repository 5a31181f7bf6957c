// RedisFaultState: which faults the Redis fake is currently applying, and their parameters.
//
// The state is plain data read by the fake's connections before each command; RedisFake (server.h)
// is what changes it, on its event-loop thread, and performs the one-shot actions (closing every
// client, refusing connections by closing the listening socket). Fault names, as the HTTP control
// endpoint and the journal spell them:
//   refuse_connections  stop listening: connect() fails with ECONNREFUSED until healed
//   close_clients       one-shot: close every client connection now (nothing to heal)
//   pause               hold every command (and so its reply) until healed
//   oom                 commands that may grow memory get redis-server's -OOM error
//   loading             commands redis-server refuses while loading get -LOADING
//   readonly            write commands get -READONLY, as on a read-only replica
//   command_error       {command, error}: that command gets the error line `error` (e.g. "ERR x")
//   latency             {command or "*", ms}: each such command waits `ms` on the harness Clock
//   close_after         {commands}: a connection is closed once it has been answered that many
//                       commands after the fault was set (or it connected, if later)
//
// Thread safety: none; owned and used by the fake's event-loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/clock.h"

namespace faultline::fakes::redis {

struct RedisFaultState {
  bool refuse_connections = false;
  bool paused = false;
  bool oom = false;
  bool loading = false;
  bool readonly = false;
  std::map<std::string, std::string> command_errors;  // lower-case command -> error line
  std::map<std::string, Duration> latency;            // lower-case command or "*" -> delay
  std::optional<std::uint64_t> close_after;           // commands per connection
  std::uint64_t close_after_generation = 0;           // bumped whenever close_after is set

  // The delay for `command` (its own entry, else "*"), if any.
  std::optional<Duration> latency_for(const std::string& command) const;
  // The active faults as JSON: {"pause": {}, "latency": {"get": 5, "*": 1}, ...}.
  nlohmann::json to_json() const;
};

// Every fault name the fake knows, for did-you-mean and the control endpoint.
const std::vector<std::string>& fault_names();

}  // namespace faultline::fakes::redis
