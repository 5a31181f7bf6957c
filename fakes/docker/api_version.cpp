#include "fakes/docker/api_version.h"

#include "fakes/docker/api_types.h"

namespace faultline::fakes::docker {

std::optional<ApiVersion> ApiVersion::parse(const std::string& text) {
  const auto dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) return std::nullopt;
  ApiVersion v;
  int* part = &v.major;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == dot) {
      part = &v.minor;
      continue;
    }
    if (c < '0' || c > '9' || *part > 100000) return std::nullopt;
    *part = *part * 10 + (c - '0');
  }
  return v;
}

std::string ApiVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

VersionedPath split_version(const std::string& path) {
  if (path.size() > 2 && path[0] == '/' && path[1] == 'v') {
    const auto slash = path.find('/', 2);
    const std::string candidate = path.substr(2, slash == std::string::npos ? slash : slash - 2);
    if (ApiVersion::parse(candidate)) {
      return {candidate, slash == std::string::npos ? "/" : path.substr(slash)};
    }
  }
  return {"", path};
}

std::string negotiate(const std::string& requested, const ApiVersion& min, const ApiVersion& max) {
  if (requested.empty()) return max.str();
  const auto v = ApiVersion::parse(requested);
  if (!v) throw ApiError(400, "invalid API version: " + requested);
  if (*v > max) {
    throw ApiError(400, "client version " + requested +
                            " is too new. Maximum supported API version is " + max.str());
  }
  if (*v < min) {
    throw ApiError(400, "client version " + requested +
                            " is too old. Minimum supported API version is " + min.str() +
                            ", please upgrade your client to a newer version");
  }
  return v->str();
}

}  // namespace faultline::fakes::docker
