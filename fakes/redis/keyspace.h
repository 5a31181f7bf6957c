// Keyspace: the data of the Redis fake — numbered databases of strings, hashes and lists, their
// TTLs on the harness Clock, memory accounting and maxmemory eviction.
//
// Expiry. A key's deadline is a TimePoint of the harness Clock; `expire_due()` (called before
// every command) removes every key whose deadline has passed, in deadline order, and counts them in
// `expired_keys`. So with a ManualClock, advancing simulated time is what expires keys.
//
// Memory. `used_memory()` is an estimate — a fixed base plus, per key, the key, the value's bytes
// and a fixed per-entry overhead — that grows and shrinks monotonically with the data (it is not
// the allocator's figure). A command that changes a value in place calls `updated()` so the total
// stays exact; `recount()` recomputes it from scratch for tests.
//
// Eviction. `make_room()` evicts, as redis-server does before running a command, until
// used_memory <= maxmemory, choosing victims by the policy: allkeys-lru / volatile-lru take, out
// of `samples` keys sampled at random (per database), the least recently used; allkeys-random /
// volatile-random a random key; volatile-ttl the sampled key nearest to expiring. "Recently used"
// is a logical access counter rather than a clock, so the order is exact and deterministic. The
// random choices come from the seeded Rng given at construction.
//
// Thread safety: none; the Redis fake uses a Keyspace from its event-loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "harness/core/clock.h"
#include "harness/core/rng.h"

namespace faultline::fakes::redis {

// A hash that keeps insertion order (as redis-server's listpack encoding does for small hashes).
class HashValue {
 public:
  const std::string* get(std::string_view field) const;
  // Returns true if the field is new.
  bool set(std::string_view field, std::string_view value);
  bool erase(std::string_view field);
  std::size_t size() const { return fields_.size(); }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t bytes_ = 0;
};

class ListValue {
 public:
  void push_front(std::string v);
  void push_back(std::string v);
  std::string pop_front();
  std::string pop_back();
  std::size_t size() const { return items_.size(); }
  const std::deque<std::string>& items() const { return items_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::deque<std::string> items_;
  std::size_t bytes_ = 0;
};

using Value = std::variant<std::string, HashValue, ListValue>;

// "string", "hash" or "list": what TYPE answers.
const char* type_name(const Value& v);

struct Entry {
  Value value;
  std::uint64_t last_access = 0;  // logical LRU stamp
  std::size_t bytes = 0;          // what this entry adds to used_memory
};

enum class EvictionPolicy {
  kNoEviction,
  kAllKeysLru,
  kAllKeysRandom,
  kVolatileLru,
  kVolatileRandom,
  kVolatileTtl
};

// "allkeys-lru" etc.; nullopt for a name redis-server would not know or the fake does not model.
std::optional<EvictionPolicy> parse_policy(std::string_view name);
const char* policy_name(EvictionPolicy p);

struct KeyspaceStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t expired = 0;
  std::uint64_t evicted = 0;
};

class Keyspace {
 public:
  static constexpr std::size_t kBaseMemory = 1
                                             << 20;  // what an empty redis-server reports, roughly
  static constexpr std::size_t kEntryOverhead = 64;

  Keyspace(Clock& clock, Rng rng, int databases = 16);

  int databases() const { return static_cast<int>(dbs_.size()); }

  // Removes every key whose deadline has passed.
  void expire_due();

  // The entry under `key`, or nullptr. `find_read` counts a hit or miss; both mark it used.
  Entry* find(int db, std::string_view key);
  Entry* find_read(int db, std::string_view key);

  // Stores `value` under `key`, replacing any previous value and, unless `keep_ttl`, its TTL.
  Entry& store(int db, std::string_view key, Value value, bool keep_ttl = false);
  bool erase(int db, std::string_view key);
  // After changing an entry's value in place: fixes accounting and removes it if it is an empty
  // hash or list (as redis-server deletes empty aggregates).
  void updated(int db, std::string_view key, Entry& entry);

  // TTLs. `deadline` nullopt = persist. Returns false if the key does not exist.
  bool set_deadline(int db, std::string_view key, std::optional<TimePoint> deadline);
  std::optional<TimePoint> deadline(int db, std::string_view key) const;

  std::size_t size(int db) const;
  std::size_t volatile_size(int db) const;
  std::vector<std::string> keys(int db) const;
  void flush(int db);
  void flush_all();

  // Memory and eviction.
  std::size_t used_memory() const { return used_; }
  std::size_t recount() const;
  std::uint64_t maxmemory() const { return maxmemory_; }
  void set_maxmemory(std::uint64_t bytes) { maxmemory_ = bytes; }
  EvictionPolicy policy() const { return policy_; }
  void set_policy(EvictionPolicy p) { policy_ = p; }
  int samples() const { return samples_; }
  void set_samples(int n) { samples_ = n < 1 ? 1 : n; }
  bool over_limit() const { return maxmemory_ > 0 && used_ > maxmemory_; }
  // Evicts until under maxmemory; false if still over (noeviction, or nothing evictable).
  bool make_room();

  KeyspaceStats& stats() { return stats_; }
  const KeyspaceStats& stats() const { return stats_; }
  Clock& clock() { return clock_; }

 private:
  struct Database {
    std::unordered_map<std::string, Entry> dict;
    std::unordered_map<std::string, TimePoint> expires;
  };
  using ExpiryKey = std::tuple<TimePoint, int, std::string>;

  static std::size_t entry_bytes(std::string_view key, const Value& v);
  void remove(int db, std::unordered_map<std::string, Entry>::iterator it);
  bool evict_one();
  // The key of a random element of a non-empty map, by picking a random non-empty bucket.
  template <class Map>
  const std::string& random_key(const Map& map);

  Clock& clock_;
  Rng rng_;
  std::vector<Database> dbs_;
  std::set<ExpiryKey> expiry_index_;
  std::uint64_t access_counter_ = 0;
  std::size_t used_ = kBaseMemory;
  std::uint64_t maxmemory_ = 0;
  EvictionPolicy policy_ = EvictionPolicy::kNoEviction;
  int samples_ = 5;
  KeyspaceStats stats_;
};

}  // namespace faultline::fakes::redis
