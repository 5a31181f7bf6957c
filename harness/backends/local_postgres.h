// A real PostgreSQL 15 for the local backend (see local_backend.h and pg_template.h).
//
// The server runs as an unprivileged user on 127.0.0.1:<port> (with a network namespace: inside
// it, on the namespace's address, which is then the endpoint's host) and a unix socket in its
// data directory, fsync off, supervised. Its readiness probe also creates the service's role and
// database (settings user, database) the first time the server answers, as the postgres image
// does with POSTGRES_USER / POSTGRES_DB; authentication is trust on loopback. Hooks: kill
// (SIGKILL the postmaster), pause (SIGSTOP/SIGCONT of its process group, healed by the run
// directory if the harness dies), admin-shutdown (every client session gets FATAL 57P01, as from
// pg_terminate_backend; the server keeps running).
//
// Thread safety: as local_backend.h.
#pragma once

#include <filesystem>
#include <memory>

#include "harness/backends/pg_template.h"
#include "harness/core/supervisor.h"
#include "harness/stack/backend.h"

namespace faultline::netns {
class NetworkNamespace;
}

namespace faultline::backends {

// `ns`: run inside that network namespace (the handle keeps it until it is gone), or nullptr.
std::unique_ptr<stack::ServiceHandle> start_local_postgres(
    RunDirectory& run, const stack::Service& service, std::shared_ptr<PgDataDir> data, int port,
    const std::filesystem::path& log, std::shared_ptr<netns::NetworkNamespace> ns = nullptr);

}  // namespace faultline::backends
