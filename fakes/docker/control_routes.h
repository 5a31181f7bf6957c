// The fake daemon's loopback control endpoint (what `faultline fake docker --control` serves):
//   POST /faults   {"fault": "die", "container": "web", "exit_code": 3} (see
//                  FakeDockerEngine::apply_fault for every fault) -> 204, 400 bad fault, 404
//                  unknown container/network
//   GET  /state    containers, networks and recent events as JSON
//
// Thread safety: as FakeDockerEngine; called on the control server's loop thread.
#pragma once

#include "fakes/docker/api_types.h"
#include "fakes/docker/fake_docker.h"

namespace faultline::fakes::docker {

HttpReply control_request(FakeDockerEngine& engine, const HttpRequest& request);

}  // namespace faultline::fakes::docker
