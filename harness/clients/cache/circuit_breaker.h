// CircuitBreaker: closed -> open after N consecutive failures -> half-open after T on the harness
// Clock -> closed on a successful probe, or open again for another T on a failed one.
//
// The breaker does not send anything itself: `allow()` tells the caller whether to try Redis, and
// when it returns kProbe the caller's next Redis call is the half-open probe whose outcome it must
// report with `record_success()` / `record_failure()`. Only one probe is in flight at a time;
// other callers keep being refused until the probe reports. Transitions are logged and, with a
// Journal, journaled as kind "cache.breaker" (fields: from, to, reason, failures, and for a
// recovery `open_ns`, how long the breaker was not closed on the harness clock).
//
// Thread safety: every member may be called from any thread (one internal mutex).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "harness/core/clock.h"

namespace faultline {
class Journal;
}

namespace faultline::clients {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* to_string(BreakerState state);

class CircuitBreaker {
 public:
  enum class Decision { kAllow, kProbe, kReject };

  // `threshold` >= 1 and `half_open_after` > 0 (checked by CacheConfig::validate()).
  CircuitBreaker(Clock& clock, int threshold, Duration half_open_after, Journal* journal,
                 std::string subject);

  Decision allow();
  void record_success();
  void record_failure(const std::string& reason);

  BreakerState state() const;
  std::uint64_t opens() const;       // closed -> open (a failed probe re-opens, not counted)
  std::uint64_t recoveries() const;  // half-open -> closed transitions
  std::uint64_t probes() const;

 private:
  void transition_locked(BreakerState to, const std::string& reason);

  Clock& clock_;
  const int threshold_;
  const Duration half_open_after_;
  Journal* const journal_;
  const std::string subject_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  int consecutive_failures_ = 0;
  TimePoint opened_at_{};
  TimePoint first_opened_at_{};  // start of the current outage, for the recovery journal
  bool probe_in_flight_ = false;
  std::uint64_t opens_ = 0, recoveries_ = 0, probes_ = 0;
};

}  // namespace faultline::clients
