// RedisManager: one hiredis connection to a Redis server, with connect and command timeouts, and
// every failure classified (refused, timed out, connection lost, OOM, LOADING, READONLY, ...).
//
// It never throws for a Redis or network problem: `command()` returns a RedisResult whose
// `failure` says what went wrong, and the connection is dropped and re-dialled by the next call
// after any transport failure (a timed-out reply may still arrive later on the old socket, so the
// socket is never reused). A reused connection found closed by the server (EOF or reset: Redis
// restarted, CLIENT KILL, idle timeout) is re-dialled and the command retried once, so commands
// sent through a RedisManager must be idempotent (the cache's are: GET, SET PX, DEL, PING, INFO).
// `health()` is the memory monitor: INFO server/memory/stats/persistence /replication parsed into
// RedisHealth (used and max memory, policy, evictions, loading, role).
//
// Thread safety: every member may be called from any thread; calls are serialized on one mutex
// (one connection, one command in flight). A call blocks for at most connect_timeout +
// command_timeout of real time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/clients/cache/cache_config.h"

namespace faultline::clients {

enum class RedisFailure {
  kNone,            // Redis answered with something other than an error
  kRefused,         // connect() refused (or the unix socket is absent)
  kTimeout,         // connect or command timed out (paused/stopped Redis, slow network)
  kConnectionLost,  // EOF or reset mid-command
  kOom,             // -OOM ... (maxmemory reached, noeviction or nothing evictable)
  kLoading,         // -LOADING ... (dataset still loading)
  kReadonly,        // -READONLY ... (a replica)
  kBusy,            // -BUSY / -MASTERDOWN / -TRYAGAIN: temporarily unable to serve
  kError,           // any other -ERR reply (a bug in the caller, not an outage)
  kProtocol,        // an unexpected or malformed reply
};
const char* to_string(RedisFailure failure);

struct RedisResult {
  enum class Kind { kNil, kString, kInteger, kStatus, kArray, kError, kNone };
  RedisFailure failure = RedisFailure::kNone;
  Kind kind = Kind::kNone;
  std::string str;                    // bulk/status text, or the error line for kError
  long long integer = 0;              // kInteger
  std::vector<std::string> elements;  // kArray of bulk strings (nil elements as "")

  bool ok() const { return failure == RedisFailure::kNone; }
  // True for failures that say the server (or the path to it) is unavailable, as opposed to a
  // refusal of this one command (OOM, READONLY) or a caller error. The breaker counts these.
  bool outage() const;
};

struct RedisHealth {
  bool reachable = false;
  RedisFailure failure = RedisFailure::kNone;  // why not, if not reachable
  std::string error;
  bool loading = false;
  std::string role;  // "master" | "slave"
  std::uint64_t used_memory = 0;
  std::uint64_t maxmemory = 0;  // 0 = unlimited
  std::string maxmemory_policy;
  std::uint64_t evicted_keys = 0;
  std::uint64_t expired_keys = 0;
  std::string redis_version;
};

class RedisManager {
 public:
  // Validates `config` (throws InputError); does not connect yet.
  explicit RedisManager(CacheConfig config);
  ~RedisManager();
  RedisManager(const RedisManager&) = delete;
  RedisManager& operator=(const RedisManager&) = delete;

  // Connects now if not connected (UT-INFRA-03.1: dials with the configured timeouts and selects
  // the database). Returns the failure, kNone on success.
  RedisFailure connect();
  bool connected() const;
  // Closes the connection (the next command re-dials).
  void disconnect();

  // Runs one command (argv, binary-safe). Connects first if needed.
  RedisResult command(const std::vector<std::string>& argv);
  RedisResult ping() { return command({"PING"}); }
  // INFO, parsed; `reachable` false (with the failure) if Redis cannot be asked.
  RedisHealth health();

  const CacheConfig& config() const { return config_; }
  // How many times a connection was (re)established.
  std::uint64_t connects() const;

 private:
  struct Conn;
  RedisFailure connect_locked();
  CacheConfig config_;
  mutable std::mutex mu_;
  std::unique_ptr<Conn> conn_;
  std::uint64_t connects_ = 0;
  std::string last_connect_error_;
};

}  // namespace faultline::clients
