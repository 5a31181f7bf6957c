// CacheClient: cache-aside reads over Redis in front of a CacheSource (the database), which keeps
// callers working when Redis does not.
//
//   RedisManager redis(config);
//   CacheClient cache(redis, source, clock, &journal, config);
//   std::optional<std::string> v = cache.get("order:42");   // hit, or load + populate with TTL
//   cache.put("order:42", "...");                           // write-through + invalidate
//
// Reads. `get` tries Redis; on a hit it returns the cached value, on a miss it loads from the
// source and populates Redis (SET ... PX ttl). If Redis is refused, times out, loses the
// connection, answers LOADING/BUSY, or the circuit breaker is open, the value is loaded from the
// source and returned: the caller never sees a Redis error (`fallbacks` counts these). Errors of
// the source itself (the database is down) propagate to the caller unchanged. A key the source
// does not have is returned as nullopt and not cached (no negative caching).
//
// Writes. `put` is write-through with invalidation: the value is stored in the source first (its
// exceptions propagate; nothing is cached then), then the cache key is deleted, and the next read
// repopulates it. Invalidation, rather than SET, means a write never races a slower read into
// leaving an older value cached. If Redis cannot take the DEL (down, breaker open, READONLY), the
// write still succeeds — see coherence below.
//
// TTL and the clock. Every cached entry is an envelope carrying its deadline on the harness Clock
// and the client's sequence number (see cache_entry.h); Redis also gets the TTL as PX. A hit is
// served only if clock.now() < deadline, whatever Redis's own clock says — so with a ManualClock
// and a real Redis (whose clock does not follow the simulation) nothing is served past its TTL,
// and with the Redis fake on the same ManualClock both expiries agree exactly.
//
// Coherence. For writes made through this client: `put` records the key with the sequence number
// at which it was written; an entry populated before that (say by a SET that timed out and landed
// late, or whose DEL failed during an outage) is rejected as stale. Records are dropped once
// default_ttl has passed, when every older entry has expired anyway. Writes to the database that
// bypass this client must call `invalidate()`; otherwise their staleness is bounded by the TTL.
//
// Memory. OOM (noeviction, or nothing evictable under a volatile-* policy) and READONLY make the
// populate SET fail: the write to the cache is skipped (`writes_skipped`), the read still returns
// the source's value, and the breaker is not tripped (Redis is up and still serves hits). Every
// entry has a TTL, so volatile-* policies may evict cache entries like allkeys-* ones.
//
// Breaker. Outage failures (RedisResult::outage()) count towards config.failure_threshold; when
// open, Redis is not contacted at all until half_open_after has passed on the Clock; then the
// first operation sends a PING as the half-open probe. Transitions are journaled ("cache.breaker";
// a recovery carries how long Redis was unavailable). Timeouts are logged as errors.
//
// Thread safety: every member may be called from any thread. Operations on one CacheClient are
// serialized (one Redis connection; it also makes get/put linearizable for this client). The
// RedisManager, CacheSource, Clock and Journal must outlive the client; the source is called with
// the client's lock held and must not call back into the client.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/clients/cache/cache_config.h"
#include "harness/clients/cache/circuit_breaker.h"
#include "harness/clients/cache/redis_manager.h"
#include "harness/core/clock.h"

namespace faultline {
class Journal;
}

namespace faultline::clients {

// The system of record behind the cache (a database table, a map in a test).
class CacheSource {
 public:
  virtual ~CacheSource() = default;
  // The value of `key`, nullopt if there is none. May throw: the error reaches the caller.
  virtual std::optional<std::string> load(const std::string& key) = 0;
  virtual void store(const std::string& key, const std::string& value) = 0;
};

struct CacheStats {
  std::uint64_t hits = 0;            // served from Redis
  std::uint64_t misses = 0;          // Redis answered, key absent/expired/stale -> source
  std::uint64_t fallbacks = 0;       // Redis failed or breaker open -> source
  std::uint64_t source_loads = 0;    // calls to CacheSource::load
  std::uint64_t populates = 0;       // entries written to Redis
  std::uint64_t writes_skipped = 0;  // populate/invalidate not done (OOM, READONLY, outage)
  std::uint64_t stale_rejected = 0;  // entries Redis returned that were past TTL or invalidated
  std::uint64_t timeouts = 0;        // Redis calls that timed out
  std::uint64_t redis_errors = 0;    // every failed Redis call, timeouts included
  BreakerState breaker = BreakerState::kClosed;
  std::uint64_t breaker_opens = 0;
  std::uint64_t breaker_recoveries = 0;

  nlohmann::json to_json() const;
};

class CacheClient {
 public:
  // Validates `config` (throws InputError).
  CacheClient(RedisManager& redis, CacheSource& source, Clock& clock, Journal* journal = nullptr,
              CacheConfig config = CacheConfig());
  CacheClient(const CacheClient&) = delete;
  CacheClient& operator=(const CacheClient&) = delete;

  std::optional<std::string> get(const std::string& key);
  void put(const std::string& key, const std::string& value);
  // Drops `key` from the cache (for writes that bypassed this client).
  void invalidate(const std::string& key);

  CacheStats stats() const;
  BreakerState breaker_state() const { return breaker_.state(); }
  const CacheConfig& config() const { return config_; }

 private:
  bool redis_allowed_locked();
  // Counts, logs and feeds the breaker with one Redis call's outcome; true if Redis answered.
  bool record_redis_locked(const RedisResult& r, const char* op);
  std::optional<std::string> load_locked(const std::string& key);
  void populate_locked(const std::string& key, const std::string& value, std::uint64_t seq);
  void invalidate_locked(const std::string& key);
  void prune_written_locked();
  void check_policy_locked();
  std::string redis_key(const std::string& key) const { return config_.key_prefix + key; }

  RedisManager& redis_;
  CacheSource& source_;
  Clock& clock_;
  Journal* journal_;
  CacheConfig config_;
  CircuitBreaker breaker_;
  mutable std::mutex mu_;
  CacheStats stats_;
  std::uint64_t next_seq_ = 1;
  // key -> (sequence number of its last write through this client, when it was written), and the
  // same writes in time order so that records older than default_ttl are dropped cheaply.
  std::map<std::string, std::pair<std::uint64_t, TimePoint>> written_;
  std::deque<std::pair<std::uint64_t, std::string>> written_order_;
  std::uint64_t policy_checked_connects_ = 0;
};

}  // namespace faultline::clients
