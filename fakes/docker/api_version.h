// Docker Engine API versions ("1.41") and the negotiation dockerd does on every request: a path
// may start with /v<major>.<minor>; a version above the daemon's maximum or below its minimum is
// refused with 400 and dockerd's message; an unversioned path is served at the maximum.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace faultline::fakes::docker {

struct ApiVersion {
  int major = 0;
  int minor = 0;
  static std::optional<ApiVersion> parse(const std::string& text);  // "1.41"
  std::string str() const;
  auto operator<=>(const ApiVersion&) const = default;
};

struct VersionedPath {
  std::string version;  // as requested, "" when the path carries none
  std::string path;     // the rest, starting with '/'
};

// Splits "/v1.41/containers/json" into {"1.41", "/containers/json"}. A "/v..." segment that is
// not a version is left in the path (it then matches no route, as in dockerd).
VersionedPath split_version(const std::string& path);

// The version to serve a request at; throws ApiError(400) with dockerd's text when `requested`
// is outside [min, max]. An empty `requested` yields `max`.
std::string negotiate(const std::string& requested, const ApiVersion& min, const ApiVersion& max);

}  // namespace faultline::fakes::docker
