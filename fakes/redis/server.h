// RedisFake: an in-process Redis server speaking RESP2 on the harness's EventLoop, with fault
// controls.
//
// It listens on a loopback TCP port (port 0 = an ephemeral one, read back with `port()`) or on a
// unix socket, serves any number of clients with pipelining, and answers the commands listed in
// fakes/redis/README.md as redis-server 7.0 does (same replies, same error texts); TTLs run on the
// given Clock, so with a ManualClock simulated time expires keys and drives injected latency.
//
// Faults (see faults.h for their exact meaning) are set and healed through the typed methods
// below or by name through `inject` / `heal` (what the HTTP control endpoint calls). Every change
// is logged and, when a Journal is given, journaled as fault.inject / fault.heal with subject
// "redis:<name>". A fault is in-process state: when the fake stops or is destroyed, it is gone,
// so there is nothing for a run directory to heal.
//
// Thread safety: every public member may be called from any thread except the event-loop thread's
// callers that hold the fake's internals (none outside this library). Calls are posted to the loop
// and awaited, so a fault takes effect between two commands. The EventLoop and the Clock must
// outlive the fake.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fakes/redis/faults.h"
#include "harness/core/clock.h"

namespace faultline {
class EventLoop;
class Journal;
}  // namespace faultline

namespace faultline::fakes::redis {

class Keyspace;

struct RedisFakeOptions {
  std::string host = "127.0.0.1";     // loopback only
  std::uint16_t port = 0;             // 0: an ephemeral port
  std::filesystem::path unix_path{};  // non-empty: listen on this unix socket instead of TCP
  int databases = 16;
  std::uint64_t maxmemory = 0;  // bytes; 0 = no limit
  std::string maxmemory_policy = "noeviction";
  std::uint64_t seed = 0;      // eviction sampling
  Journal* journal = nullptr;  // where faults are journaled, if anywhere
  std::string name = "redis";  // journal subject: "redis:<name>"
};

class RedisFake {
 public:
  // Throws InputError for a bad option (policy name, non-loopback host).
  RedisFake(EventLoop& loop, Clock& clock, RedisFakeOptions options = RedisFakeOptions());
  ~RedisFake();  // stop()
  RedisFake(const RedisFake&) = delete;
  RedisFake& operator=(const RedisFake&) = delete;

  // Binds and listens. Throws Error if the address cannot be bound.
  void start();
  // Closes the listener and every client. Idempotent; the data is kept for a later start().
  void stop();
  bool running() const;

  std::uint16_t port() const;    // the bound TCP port (0 for a unix socket)
  std::string endpoint() const;  // "127.0.0.1:6379" or "unix:/path"
  std::size_t client_count() const;
  // Clients whose next request is held by `pause` or `latency`.
  std::size_t blocked_clients() const;

  // --- faults (typed) -------------------------------------------------------------------
  void refuse_connections(bool on);
  void close_all_clients();  // one-shot
  void pause(bool on);
  void oom(bool on);
  void loading(bool on);
  void readonly(bool on);
  // `error` is the reply line without its '-', e.g. "ERR injected"; nullopt heals.
  void command_error(std::string_view command, std::optional<std::string> error);
  // `command` "*" for every command; nullopt heals.
  void latency(std::string_view command, std::optional<Duration> delay);
  void close_after(std::optional<std::uint64_t> commands);
  void heal_all();
  RedisFaultState faults() const;

  // --- faults (by name, for the control endpoint) -----------------------------------------
  // Throws InputError naming the problem for an unknown name or bad parameters. Parameters:
  //   command_error {"command": "get", "error": "ERR boom"}
  //   latency       {"command": "get" (default "*"), "ms": 25}
  //   close_after   {"commands": 3}
  void inject(std::string_view name, const nlohmann::json& params = nlohmann::json::object());
  // For command_error and latency, {"command": ...} heals one command; without it, all.
  void heal(std::string_view name, const nlohmann::json& params = nlohmann::json::object());

  // Runs `fn` on the loop thread with the data (for tests and tools).
  void with_keyspace(const std::function<void(Keyspace&)>& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::fakes::redis
