// ChaosGuard: the ServiceHandle a service that forbids chaos is given instead of its backend's
// own — the same endpoint, probe, lifecycle and logs, but no fault hooks: hooks() is empty and
// apply_hook() throws UsageError naming the service and why. The Orchestrator wraps every handle
// with guard_chaos(), so no backend can forget the stack file's `chaos:` flag (see stack.h,
// chaos_allowed: unset means allowed on fake and local, forbidden on external).
//
// Thread safety: as the handle it wraps.
#pragma once

#include <memory>
#include <string>

#include "harness/stack/backend.h"

namespace faultline::stack {

// `handle` itself when chaos is allowed on `service` with `backend`, else a guard around it.
std::unique_ptr<ServiceHandle> guard_chaos(std::unique_ptr<ServiceHandle> handle,
                                           const Service& service, const std::string& backend);

}  // namespace faultline::stack
