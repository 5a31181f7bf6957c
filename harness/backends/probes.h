// Readiness probes that speak each service's own protocol, shared by the backends: a redis PING
// through hiredis and a PostgreSQL PQping through libpq, each bounded by a connect timeout.
//
// Thread safety: the functions are thread-safe (each opens its own connection).
#pragma once

#include <string>

#include "harness/stack/backend.h"

namespace faultline::backends {

// PING on host:port; ok when the reply is +PONG.
stack::ProbeResult ping_redis(const std::string& host, int port);
// PQping with `conninfo` (a connect_timeout of 2 s is added); ok when the server accepts
// connections.
stack::ProbeResult ping_postgres(const std::string& conninfo);

// A TCP connect to host:port within 2 s; ok when it is accepted.
stack::ProbeResult probe_tcp(const std::string& host, int port);

}  // namespace faultline::backends
