// ExternalBackend: attaches to services an existing deployment already runs (staging), as the
// stack file's `external: {host, port, url}` describes them (fixtures/stacks/README.md).
//
// It starts and stops nothing: start() attaches (a handle with the endpoint and a probe in the
// service's protocol: PING for redis, PQping for postgres, a TCP connect for the rest), stop()
// detaches. Its handles offer no fault hooks at all; faults reach an external service only through
// the fault proxy in front of it. On top of that, the Orchestrator refuses hooks for a service the
// stack file does not mark `chaos: allowed` (forbidden is the default on this backend). A service
// without an `external:` endpoint is unavailable() with the reason.
//
// Thread safety: one thread drives the backend and its handles.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "harness/stack/backend.h"

namespace faultline::backends {

class ExternalBackend final : public stack::Backend {
 public:
  std::string name() const override { return "external"; }
  std::optional<std::string> unavailable(const stack::Service& service) const override;
  std::unique_ptr<stack::ServiceHandle> start(const stack::Service& service,
                                              const stack::StartRequest& request) override;
};

// The endpoint an external service is reached at, with the exports `faultline up` prints
// (postgres: PGHOST...; redis: REDIS_URL; kafka: KAFKA_BOOTSTRAP; docker: DOCKER_HOST).
stack::Endpoint external_endpoint(const stack::Service& service);

}  // namespace faultline::backends
