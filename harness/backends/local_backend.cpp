#include "harness/backends/local_backend.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "harness/backends/local_redis.h"
#include "harness/core/error.h"

namespace faultline::backends {

std::optional<std::filesystem::path> find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

LocalBackend::LocalBackend(RunDirectory& run, Clock& clock)
    : run_(run), clock_(clock), supervisor_(run) {}

std::optional<std::string> LocalBackend::unavailable(const stack::Service& service) const {
  switch (service.kind) {
    case stack::ServiceKind::redis:
      if (!find_program("redis-server")) return "redis-server is not installed (ci/deps.sh)";
      return std::nullopt;
    default:
      return "the local backend cannot run a " + std::string(stack::to_string(service.kind)) +
             " service yet";
  }
}

std::unique_ptr<stack::ServiceHandle> LocalBackend::start(const stack::Service& service,
                                                          const stack::StartRequest& request) {
  if (auto why = unavailable(service)) throw Error(service.name + ": " + *why);
  const auto dir = run_.path() / "services" / service.name;
  if (request.fresh_data) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return start_local_redis(supervisor_, service, dir);
}

}  // namespace faultline::backends
