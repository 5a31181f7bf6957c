// GpuControlEndpoint: the loopback HTTP API through which people, scripts and the chaos engine
// fault a FakeGpuCluster (the same shape as fakes/redis's RedisControlEndpoint).
//
//   GET    /health                 200 {"status":"ok","host":"gpu-0","devices":2}
//   GET    /devices                200 the readings now (the state file's JSON)
//   GET    /faults                 200 {"devices":{"0":["xid79"]},"smi_mode":"normal"}
//   POST   /faults/{name}          inject; body {"device":0} and optionally "duration_ms":30000
//                                    device faults: xid79 xid48 thermal_throttle memory_exhausted
//                                                   utilization_stuck_0 utilization_stuck_100
//                                    tooling (no device): smi_hang smi_malformed driver_missing
//                                  200 {"injected":name,"faults":{...}}
//   DELETE /faults/{name}          heal; body {"device":0} for a device fault
//   POST   /devices/{i}/load       body {"utilization":40,"memory_used_mib":1000}
//   POST   /reset                  heal everything. 200 {"faults":{...}}
// Errors: 400 {"error": "..."} for bad JSON, an unknown fault (with a did-you-mean) or a bad
// device; 404 for an unknown path; 405 for a wrong method. Bodies are limited to 64 KiB.
//
// Served by harness/core's HttpServer (loopback only).
//
// Thread safety: start/stop/port from any thread but the loop's; requests are served on the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "harness/core/http_server.h"

namespace faultline {
class EventLoop;
}

namespace faultline::fakes::gpu {

class FakeGpuCluster;

// The routing, without the socket (exposed for tests).
HttpReply route_control_request(FakeGpuCluster& cluster, const HttpRequest& request);

class GpuControlEndpoint {
 public:
  // Throws InputError if `host` is not a loopback address.
  GpuControlEndpoint(EventLoop& loop, FakeGpuCluster& cluster, std::string host = "127.0.0.1",
                     std::uint16_t port = 0);
  ~GpuControlEndpoint();  // stop()
  GpuControlEndpoint(const GpuControlEndpoint&) = delete;
  GpuControlEndpoint& operator=(const GpuControlEndpoint&) = delete;

  void start();  // throws Error if it cannot listen
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::fakes::gpu
