// RestartPolicy: dockerd's restart policies (no, on-failure[:N], always, unless-stopped) and its
// restart manager's backoff, as a pure value on which the daemon decides.
//
// The backoff follows moby's restartmanager: each exit computes a delay that starts at 100 ms
// and doubles, capped at one minute; a run of 10 s or more resets it to 100 ms. on-failure
// restarts only a non-zero exit, at most N times (0 = no limit); unless-stopped does not restart
// a container stopped by the API; a stop or kill by the API cancels any restart.
//
// Thread safety: values; callers synchronise.
#pragma once

#include <chrono>
#include <string>

namespace faultline::fakes::docker {

struct RestartPolicy {
  enum class Kind { kNo, kOnFailure, kAlways, kUnlessStopped };
  Kind kind = Kind::kNo;
  int maximum_retry_count = 0;

  // From HostConfig.RestartPolicy {"Name", "MaximumRetryCount"}; "" means no. Throws ApiError(400)
  // with dockerd's message for an unknown name or a retry count with another policy.
  static RestartPolicy from_api(const std::string& name, int maximum_retry_count);
  // From the CLI form "on-failure:3"; throws ApiError(400).
  static RestartPolicy parse(const std::string& text);
  std::string name() const;  // "no", "on-failure", "always", "unless-stopped"
};

class RestartBackoff {
 public:
  static constexpr std::chrono::milliseconds kInitial{100};
  static constexpr std::chrono::minutes kMax{1};
  static constexpr std::chrono::seconds kResetAfter{10};

  struct Decision {
    bool restart = false;
    std::chrono::nanoseconds delay{0};
  };

  // Called when the container's main process exits. `restart_count` is how many policy restarts
  // the container has had (RestartCount); on a restart, the caller increments it.
  Decision on_exit(const RestartPolicy& policy, int exit_code, bool manually_stopped,
                   std::chrono::nanoseconds ran_for, int restart_count);
  // A start by the API begins a new sequence.
  void reset() { timeout_ = std::chrono::nanoseconds{0}; }
  std::chrono::nanoseconds current() const { return timeout_; }

 private:
  std::chrono::nanoseconds timeout_{0};
};

}  // namespace faultline::fakes::docker
