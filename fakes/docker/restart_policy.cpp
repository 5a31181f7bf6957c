#include "fakes/docker/restart_policy.h"

#include "fakes/docker/api_types.h"

namespace faultline::fakes::docker {

RestartPolicy RestartPolicy::from_api(const std::string& name, int maximum_retry_count) {
  RestartPolicy p;
  if (name.empty() || name == "no") {
    p.kind = Kind::kNo;
  } else if (name == "on-failure") {
    p.kind = Kind::kOnFailure;
  } else if (name == "always") {
    p.kind = Kind::kAlways;
  } else if (name == "unless-stopped") {
    p.kind = Kind::kUnlessStopped;
  } else {
    throw ApiError(400, "invalid restart policy: unknown policy '" + name +
                            "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
  }
  if (maximum_retry_count < 0) {
    throw ApiError(400, "invalid restart policy: maximum retry count must be a positive integer");
  }
  if (maximum_retry_count > 0 && p.kind != Kind::kOnFailure) {
    throw ApiError(400,
                   "invalid restart policy: maximum retry count can only be used with "
                   "'on-failure'");
  }
  p.maximum_retry_count = maximum_retry_count;
  return p;
}

RestartPolicy RestartPolicy::parse(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return from_api(text, 0);
  const std::string count = text.substr(colon + 1);
  int n = 0;
  for (char c : count) {
    if (c < '0' || c > '9' || n > 100000000) {
      throw ApiError(400, "invalid restart policy format: maximum retry count must be an integer");
    }
    n = n * 10 + (c - '0');
  }
  if (count.empty()) {
    throw ApiError(400, "invalid restart policy format: maximum retry count must be an integer");
  }
  return from_api(text.substr(0, colon), n);
}

std::string RestartPolicy::name() const {
  switch (kind) {
    case Kind::kNo:
      return "no";
    case Kind::kOnFailure:
      return "on-failure";
    case Kind::kAlways:
      return "always";
    case Kind::kUnlessStopped:
      return "unless-stopped";
  }
  return "no";
}

RestartBackoff::Decision RestartBackoff::on_exit(const RestartPolicy& policy, int exit_code,
                                                 bool manually_stopped,
                                                 std::chrono::nanoseconds ran_for,
                                                 int restart_count) {
  Decision d;
  if (policy.kind == RestartPolicy::Kind::kNo) return d;
  // As moby: the timeout advances on every exit, whether or not it leads to a restart.
  if (ran_for >= kResetAfter) timeout_ = std::chrono::nanoseconds{0};
  if (timeout_ == std::chrono::nanoseconds{0}) {
    timeout_ = kInitial;
  } else if (timeout_ < kMax) {
    timeout_ *= 2;
  }
  if (timeout_ > kMax) timeout_ = kMax;
  if (manually_stopped) return d;  // the API's stop/kill cancels the restart manager
  switch (policy.kind) {
    case RestartPolicy::Kind::kAlways:
    case RestartPolicy::Kind::kUnlessStopped:
      d.restart = true;
      break;
    case RestartPolicy::Kind::kOnFailure:
      d.restart = exit_code != 0 &&
                  (policy.maximum_retry_count == 0 || restart_count < policy.maximum_retry_count);
      break;
    case RestartPolicy::Kind::kNo:
      break;
  }
  if (d.restart) d.delay = timeout_;
  return d;
}

}  // namespace faultline::fakes::docker
