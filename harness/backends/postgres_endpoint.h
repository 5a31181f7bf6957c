// The endpoint of a PostgreSQL service, whichever backend runs it: host, port, the unix socket
// directory if any, a postgresql:// URL, and the libpq environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE) that `faultline up` exports. User and database come from the service's settings
// (default postgres/postgres); a password is never part of it (password-env names the variable
// that holds it, and clients read it from there).
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "harness/stack/backend.h"

namespace faultline::backends {

stack::Endpoint postgres_endpoint(const stack::Service& service, const std::string& host, int port,
                                  const std::string& socket_dir);
// "host=H port=P user=U dbname=D" for libpq, from an endpoint made by postgres_endpoint.
std::string postgres_conninfo(const stack::Endpoint& endpoint);

}  // namespace faultline::backends
