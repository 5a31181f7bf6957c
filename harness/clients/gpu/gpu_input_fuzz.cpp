// Fuzz target for the GPU code that reads outside input: nvidia-smi's CSV (parse_smi_query), the
// fake's state file (GpuClusterState::from_json), the fake nvidia-smi's command line, and the
// fake's control API (route_control_request). The first byte picks which; the rest is the input.
// Any outcome but an Error (or a 4xx reply) is a finding: a crash, a hang, a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fakes/gpu/control_http.h"
#include "fakes/gpu/gpu_model.h"
#include "fakes/gpu/smi_output.h"
#include "harness/clients/gpu/smi_parse.h"
#include "harness/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace faultline;
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      try {
        clients::parse_smi_query(text);
      } catch (const Error&) {
      }
      break;
    case 1: {
      const auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded()) break;
      try {
        fakes::gpu::GpuClusterState::from_json(j);
      } catch (const Error&) {
      }
      break;
    }
    case 2: {
      ManualClock clock;
      fakes::gpu::FakeGpuCluster cluster(clock, {.devices = 2});
      std::vector<std::string> args;
      std::string cur;
      for (const char c : text) {
        if (c == '\n') {
          args.push_back(cur);
          cur.clear();
        } else {
          cur += c;
        }
      }
      args.push_back(cur);
      fakes::gpu::run_nvidia_smi(args, cluster.snapshot());
      break;
    }
    case 3: {
      ManualClock clock;
      fakes::gpu::FakeGpuCluster cluster(clock, {.devices = 2});
      HttpRequest req;
      const auto nl = text.find('\n');
      req.method = (text.size() % 3 == 0) ? "POST" : (text.size() % 3 == 1 ? "DELETE" : "GET");
      req.path = text.substr(0, nl);
      req.target = req.path;
      req.body = nl == std::string::npos ? "" : text.substr(nl + 1);
      const auto reply = fakes::gpu::route_control_request(cluster, req);
      if (reply.status >= 500) __builtin_trap();
      break;
    }
  }
  return 0;
}
