#include "harness/clients/cache/cache_client.h"

#include "harness/clients/cache/cache_entry.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"

namespace faultline::clients {
namespace {

// Redis's PX is in whole milliseconds: round up, so Redis never drops an entry before the
// client's own (exact) deadline would; the client's check is what bounds serving.
long long ttl_ms(Duration ttl) {
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(ttl).count();
  return ms < 1 ? 1 : ms;
}

}  // namespace

nlohmann::json CacheStats::to_json() const {
  return {{"hits", hits},
          {"misses", misses},
          {"fallbacks", fallbacks},
          {"source_loads", source_loads},
          {"populates", populates},
          {"writes_skipped", writes_skipped},
          {"stale_rejected", stale_rejected},
          {"timeouts", timeouts},
          {"redis_errors", redis_errors},
          {"breaker", to_string(breaker)},
          {"breaker_opens", breaker_opens},
          {"breaker_recoveries", breaker_recoveries}};
}

CacheClient::CacheClient(RedisManager& redis, CacheSource& source, Clock& clock, Journal* journal,
                         CacheConfig config)
    : redis_(redis),
      source_(source),
      clock_(clock),
      journal_(journal),
      config_((config.validate(), std::move(config))),
      breaker_(clock, config_.failure_threshold, config_.half_open_after, journal,
               "cache:" + config_.name) {}

bool CacheClient::redis_allowed_locked() {
  switch (breaker_.allow()) {
    case CircuitBreaker::Decision::kAllow:
      return true;
    case CircuitBreaker::Decision::kReject:
      return false;
    case CircuitBreaker::Decision::kProbe:
      break;
  }
  // The half-open probe: a PING; the operation itself runs only once Redis answered it.
  const RedisResult pong = redis_.ping();
  record_redis_locked(pong, "PING");
  return pong.ok();
}

bool CacheClient::record_redis_locked(const RedisResult& r, const char* op) {
  if (!r.outage()) {
    breaker_.record_success();
    if (!r.ok()) {
      ++stats_.redis_errors;
      log::debug(config_.name, "redis refused the command",
                 {{"op", op}, {"failure", to_string(r.failure)}, {"error", r.str}});
    }
    check_policy_locked();
    return true;
  }
  ++stats_.redis_errors;
  const std::string reason = std::string(op) + ": " + to_string(r.failure);
  if (r.failure == RedisFailure::kTimeout) {
    ++stats_.timeouts;
    log::error(config_.name, "redis command timed out; the cache is bypassed",
               {{"op", op},
                {"command_timeout_ms", config_.command_timeout.count()},
                {"connect_timeout_ms", config_.connect_timeout.count()}});
  } else {
    log::warn(config_.name, "redis unavailable; the cache is bypassed",
              {{"op", op}, {"failure", to_string(r.failure)}, {"error", r.str}});
  }
  breaker_.record_failure(reason);
  return false;
}

void CacheClient::check_policy_locked() {
  if (config_.expected_eviction_policy.empty()) return;
  const std::uint64_t connects = redis_.connects();
  if (connects == policy_checked_connects_) return;
  policy_checked_connects_ = connects;
  const RedisHealth h = redis_.health();
  if (!h.reachable || h.maxmemory_policy == config_.expected_eviction_policy) return;
  const nlohmann::json fields = {{"expected", config_.expected_eviction_policy},
                                 {"actual", h.maxmemory_policy}};
  log::warn(config_.name, "redis runs another maxmemory-policy than expected", fields);
  if (journal_) journal_->append("cache.policy_mismatch", "cache:" + config_.name, fields);
}

std::optional<std::string> CacheClient::load_locked(const std::string& key) {
  ++stats_.source_loads;
  return source_.load(key);
}

void CacheClient::populate_locked(const std::string& key, const std::string& value,
                                  std::uint64_t seq) {
  if (!redis_allowed_locked()) {
    ++stats_.writes_skipped;
    return;
  }
  const CacheEntry entry{(clock_.now() + config_.default_ttl).time_since_epoch().count(), seq,
                         value};
  const RedisResult r = redis_.command(
      {"SET", redis_key(key), entry.encode(), "PX", std::to_string(ttl_ms(config_.default_ttl))});
  record_redis_locked(r, "SET");
  if (r.ok()) {
    ++stats_.populates;
  } else {
    ++stats_.writes_skipped;  // OOM / READONLY / outage: the source's value was returned anyway
  }
}

void CacheClient::invalidate_locked(const std::string& key) {
  const std::uint64_t seq = next_seq_++;
  const TimePoint now = clock_.now();
  written_[key] = {seq, now};
  written_order_.emplace_back(seq, key);
  if (!redis_allowed_locked()) {
    ++stats_.writes_skipped;
    return;
  }
  const RedisResult r = redis_.command({"DEL", redis_key(key)});
  record_redis_locked(r, "DEL");
  if (!r.ok()) ++stats_.writes_skipped;
}

void CacheClient::prune_written_locked() {
  const TimePoint now = clock_.now();
  while (!written_order_.empty()) {
    const auto& [seq, key] = written_order_.front();
    const auto it = written_.find(key);
    if (it != written_.end() && it->second.first == seq) {
      if (now - it->second.second < config_.default_ttl) break;
      written_.erase(it);
    }
    written_order_.pop_front();
  }
}

std::optional<std::string> CacheClient::get(const std::string& key) {
  std::lock_guard lock(mu_);
  prune_written_locked();
  if (!redis_allowed_locked()) {
    ++stats_.fallbacks;
    return load_locked(key);
  }
  const RedisResult r = redis_.command({"GET", redis_key(key)});
  if (!record_redis_locked(r, "GET") || !r.ok()) {
    ++stats_.fallbacks;
    return load_locked(key);
  }
  if (r.kind == RedisResult::Kind::kString) {
    const auto entry = CacheEntry::decode(r.str);
    const auto written = written_.find(key);
    const bool fresh = entry && clock_.now_ns() < entry->deadline_ns &&
                       (written == written_.end() || entry->seq > written->second.first);
    if (fresh) {
      ++stats_.hits;
      return entry->value;
    }
    ++stats_.stale_rejected;
  }
  ++stats_.misses;
  const std::uint64_t seq = next_seq_++;
  std::optional<std::string> value = load_locked(key);
  if (value) populate_locked(key, *value, seq);
  return value;
}

void CacheClient::put(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  prune_written_locked();
  source_.store(key, value);
  invalidate_locked(key);
}

void CacheClient::invalidate(const std::string& key) {
  std::lock_guard lock(mu_);
  prune_written_locked();
  invalidate_locked(key);
}

CacheStats CacheClient::stats() const {
  std::lock_guard lock(mu_);
  CacheStats s = stats_;
  s.breaker = breaker_.state();
  s.breaker_opens = breaker_.opens();
  s.breaker_recoveries = breaker_.recoveries();
  return s;
}

}  // namespace faultline::clients
