#include "harness/clients/cache/cache_config.h"

#include <algorithm>

#include "harness/core/error.h"
#include "harness/core/text.h"

namespace faultline::clients {
namespace {

[[noreturn]] void reject(const std::string& field, const std::string& problem) {
  throw InputError({"cache config"}, field + " " + problem);
}

}  // namespace

const std::vector<std::string>& eviction_policy_names() {
  static const std::vector<std::string> names = {
      "noeviction",   "allkeys-lru",  "allkeys-lfu",     "allkeys-random",
      "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
  };
  return names;
}

void CacheConfig::validate() const {
  if (unix_path.empty()) {
    if (host.empty()) reject("host", "must not be empty (or give unix_path)");
    if (port <= 0 || port > 65535)
      reject("port", "must be in 1..65535, got " + std::to_string(port));
  }
  if (database < 0 || database > 15)
    reject("database", "must be in 0..15, got " + std::to_string(database));
  if (connect_timeout.count() <= 0)
    reject("connect_timeout", "must be > 0 ms, got " + std::to_string(connect_timeout.count()));
  if (command_timeout.count() <= 0)
    reject("command_timeout", "must be > 0 ms, got " + std::to_string(command_timeout.count()));
  if (default_ttl.count() <= 0)
    reject("default_ttl", "must be > 0, got " + std::to_string(default_ttl.count()) + " ns");
  if (default_ttl < std::chrono::milliseconds(1))
    reject("default_ttl", "must be at least 1 ms (Redis's PX resolution)");
  if (failure_threshold < 1)
    reject("failure_threshold", "must be >= 1, got " + std::to_string(failure_threshold));
  if (half_open_after.count() <= 0)
    reject("half_open_after",
           "must be > 0, got " + std::to_string(half_open_after.count()) + " ns");
  if (!expected_eviction_policy.empty()) {
    const auto& names = eviction_policy_names();
    if (std::find(names.begin(), names.end(), expected_eviction_policy) == names.end())
      reject("expected_eviction_policy", "'" + expected_eviction_policy +
                                             "' is not a Redis maxmemory-policy" +
                                             did_you_mean(expected_eviction_policy, names));
  }
  if (name.empty()) reject("name", "must not be empty");
}

}  // namespace faultline::clients
