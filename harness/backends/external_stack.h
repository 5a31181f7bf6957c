// The external stack file of a running stack: what `faultline up --export-stack FILE` writes so
// that another run (the nightly chaos job, a test under FAULTLINE_STAGING) can attach to the
// stack with the external backend. Each service keeps its kind, settings, dependencies and
// persistence, gains `external: {host, port, url}` from its live endpoint, and says
// `chaos: allowed` when chaos was allowed on it where it runs (else forbidden).
//
// Thread safety: a pure function.
#pragma once

#include <map>
#include <string>

#include "harness/stack/backend.h"
#include "harness/stack/stack.h"

namespace faultline::backends {

// `endpoints` by service name; services without one are left out. `backend` is where the stack
// runs ("fake", "local"), for the chaos flag. The result parses with stack::parse_stack_file.
std::string external_stack_file(const stack::Stack& stack,
                                const std::map<std::string, stack::Endpoint>& endpoints,
                                const std::string& backend);

}  // namespace faultline::backends
