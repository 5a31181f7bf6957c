// ContainerPlan: what the docker backend asks the engine to create for one service — the body of
// POST /containers/create (image, command, environment, labels, healthcheck, restart policy,
// limits, published ports, volumes, first network) and the networks and named volumes it needs.
// Pure: no engine is contacted, so the mapping is tested on its own.
//
// Thread safety: free functions without shared state.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/stack/stack.h"

namespace faultline::backends::docker {

struct ContainerPlan {
  std::string name;                   // "<project>-<service>"
  nlohmann::json body;                // POST /containers/create
  std::vector<std::string> networks;  // engine network names; the first is NetworkMode
  std::vector<std::string> volumes;   // engine volume names ("<project>_<volume>")
  int container_port = 0;             // the first published container port, 0: none
};

// The image a kind runs when the service names none ("" for kinds the backend cannot run).
std::string default_image(stack::ServiceKind kind);

// `env` resolves a postgres service's password-env variable (the value goes only into the
// container's environment). Throws UsageError for a service the backend cannot describe.
ContainerPlan plan_container(const stack::Service& service, const std::string& project,
                             bool engine_restarts, const stack::EnvLookup& env);

// "always", "on-failure:3", ... as the engine's HostConfig.RestartPolicy takes it.
nlohmann::json restart_policy(const stack::RestartPolicy& policy);

}  // namespace faultline::backends::docker
