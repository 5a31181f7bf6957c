// A real redis-server for the local backend (see local_backend.h).
#pragma once

#include <filesystem>
#include <memory>

#include "harness/core/supervisor.h"
#include "harness/stack/backend.h"

namespace faultline::backends {

// Starts redis-server on a free loopback port with its data in `dir` (append-only file on for a
// persistent service, no persistence otherwise) and the service's maxmemory settings.
std::unique_ptr<stack::ServiceHandle> start_local_redis(Supervisor& supervisor,
                                                        const stack::Service& service,
                                                        const std::filesystem::path& dir);

}  // namespace faultline::backends
