#include "harness/clients/cache/circuit_breaker.h"

#include <nlohmann/json.hpp>

#include "harness/core/journal.h"
#include "harness/core/log.h"

namespace faultline::clients {

const char* to_string(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(Clock& clock, int threshold, Duration half_open_after,
                               Journal* journal, std::string subject)
    : clock_(clock),
      threshold_(threshold),
      half_open_after_(half_open_after),
      journal_(journal),
      subject_(std::move(subject)) {}

CircuitBreaker::Decision CircuitBreaker::allow() {
  std::lock_guard lock(mu_);
  switch (state_) {
    case BreakerState::kClosed:
      return Decision::kAllow;
    case BreakerState::kOpen:
      if (clock_.now() - opened_at_ < half_open_after_) return Decision::kReject;
      transition_locked(BreakerState::kHalfOpen, "half_open_after elapsed");
      probe_in_flight_ = true;
      ++probes_;
      return Decision::kProbe;
    case BreakerState::kHalfOpen:
      if (probe_in_flight_) return Decision::kReject;
      probe_in_flight_ = true;
      ++probes_;
      return Decision::kProbe;
  }
  return Decision::kReject;
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(mu_);
  consecutive_failures_ = 0;
  if (state_ == BreakerState::kHalfOpen) {
    probe_in_flight_ = false;
    transition_locked(BreakerState::kClosed, "probe succeeded");
  }
}

void CircuitBreaker::record_failure(const std::string& reason) {
  std::lock_guard lock(mu_);
  ++consecutive_failures_;
  if (state_ == BreakerState::kHalfOpen) {
    probe_in_flight_ = false;
    transition_locked(BreakerState::kOpen, "probe failed: " + reason);
  } else if (state_ == BreakerState::kClosed && consecutive_failures_ >= threshold_) {
    transition_locked(BreakerState::kOpen, reason);
  }
}

void CircuitBreaker::transition_locked(BreakerState to, const std::string& reason) {
  const BreakerState from = state_;
  state_ = to;
  const TimePoint now = clock_.now();
  nlohmann::json fields = {{"from", to_string(from)},
                           {"to", to_string(to)},
                           {"reason", reason},
                           {"failures", consecutive_failures_}};
  if (to == BreakerState::kOpen) {
    opened_at_ = now;
    if (from == BreakerState::kClosed) {
      first_opened_at_ = now;
      ++opens_;
    }
  } else if (to == BreakerState::kClosed) {
    ++recoveries_;
    consecutive_failures_ = 0;
    fields["open_ns"] = (now - first_opened_at_).count();
  }
  if (to == BreakerState::kHalfOpen) {
    log::info(subject_, "circuit breaker half-open: probing redis", fields);
  } else if (to == BreakerState::kOpen) {
    log::warn(subject_, "circuit breaker open: serving from the source", fields);
  } else {
    log::info(subject_, "circuit breaker closed: redis recovered", fields);
  }
  if (journal_) journal_->append("cache.breaker", subject_, fields);
}

BreakerState CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return state_;
}
std::uint64_t CircuitBreaker::opens() const {
  std::lock_guard lock(mu_);
  return opens_;
}
std::uint64_t CircuitBreaker::recoveries() const {
  std::lock_guard lock(mu_);
  return recoveries_;
}
std::uint64_t CircuitBreaker::probes() const {
  std::lock_guard lock(mu_);
  return probes_;
}

}  // namespace faultline::clients
