// CacheConfig: how a CacheClient reaches Redis, how long values live, and when its circuit
// breaker opens and probes again.
//
// Validated at construction of the RedisManager / CacheClient that use it (`validate()` throws
// InputError naming the field and the bad value: zero or negative durations, a zero threshold, a
// port of 0, an unknown eviction policy, a non-loopback host when loopback_only is set...).
//
// Thread safety: plain data; copy it freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/core/clock.h"

namespace faultline::clients {

// Redis's maxmemory-policy names, as CONFIG GET spells them.
const std::vector<std::string>& eviction_policy_names();

struct CacheConfig {
  // --- where Redis is -------------------------------------------------------------------------
  std::string host = "127.0.0.1";
  int port = 6379;              // 1..65535
  std::string unix_path;        // non-empty: connect to this unix socket instead of host:port
  int database = 0;             // SELECT; 0..15
  std::string key_prefix = "";  // prepended to every cache key (e.g. "orders:")

  // Network timeouts. These guard real sockets, so they are real (kernel) time even when the
  // harness Clock is simulated: a paused or stopped Redis costs each call at most this long.
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds command_timeout{250};

  // --- cache semantics (harness Clock)
  // ------------------------------------------------------------
  Duration default_ttl = std::chrono::minutes(5);  // every cached value has a TTL, > 0

  // --- circuit breaker (harness Clock)
  // ------------------------------------------------------------
  int failure_threshold = 5;  // consecutive Redis failures that open it, >= 1
  Duration half_open_after = std::chrono::seconds(10);  // open -> one probe after this long, > 0

  // The maxmemory-policy the deployment is expected to run with; "" accepts any. Checked against
  // eviction_policy_names() at construction; a Redis that reports another policy is logged and
  // journaled (as "cache.policy_mismatch") when the manager connects, never refused.
  std::string expected_eviction_policy;

  // Name used in logs and as the journal subject ("cache:<name>").
  std::string name = "cache";

  // Throws InputError ("cache config: <field> must be ...") for the first invalid field.
  void validate() const;
};

}  // namespace faultline::clients
