// A real redis-server for the local backend (see local_backend.h). Hooks: kill (SIGKILL), pause
// (SIGSTOP/SIGCONT, healed by the run directory if the harness dies); see local_process.h.
#pragma once

#include <filesystem>
#include <memory>

#include "harness/core/run_dir.h"
#include "harness/stack/backend.h"

namespace faultline::netns {
class NetworkNamespace;
}

namespace faultline::backends {

// Starts redis-server on loopback `port` with its data in `dir` (append-only file on for a
// persistent service, no persistence otherwise) and the service's maxmemory settings. With `ns`,
// inside that network namespace, listening on (and reached at) the namespace's address; the
// handle keeps the namespace until it is gone.
std::unique_ptr<stack::ServiceHandle> start_local_redis(
    RunDirectory& run, const stack::Service& service, const std::filesystem::path& dir, int port,
    std::shared_ptr<netns::NetworkNamespace> ns = nullptr);

}  // namespace faultline::backends
