// FakeGpuServer: one fake GPU server for the REQ-INFRA-06 suite — a FakeGpuCluster that writes its
// state file in a temporary directory, and the options that make GpuProbe read it through the fake
// `nvidia-smi` program, as a probe reads a real server's nvidia-smi.
//
// Thread safety: owned by one test.
#pragma once

#include <memory>
#include <string>

#include "fakes/gpu/gpu_model.h"
#include "harness/clients/gpu/gpu_probe.h"
#include "harness/testing/process_testing.h"

namespace faultline::req_infra_06 {

struct FakeGpuServer {
  FakeGpuServer(Clock& clock, std::string host, int devices = 2)
      : cluster(clock, {.host = host,
                        .devices = devices,
                        .seed = 6,
                        .state_file = dir.path() / (host + ".json")}) {}

  // nvidia-smi options for this server: the fake program, pointed at the state file.
  clients::NvidiaSmiOptions smi(
      std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    clients::NvidiaSmiOptions o;
    o.program = FAULTLINE_FAKE_NVIDIA_SMI;
    o.env[fakes::gpu::kStateFileEnv] = (dir.path() / (cluster.options().host + ".json")).string();
    o.timeout = timeout;
    return o;
  }

  faultline::testing::TempDir dir;
  fakes::gpu::FakeGpuCluster cluster;
};

}  // namespace faultline::req_infra_06
