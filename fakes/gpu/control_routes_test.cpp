// The GPU fake's control API: routing (no socket) and one endpoint over loopback HTTP.
#include <gtest/gtest.h>

#include "fakes/gpu/control_http.h"
#include "fakes/gpu/gpu_model.h"
#include "harness/core/event_loop.h"
#include "harness/testing/net_testing.h"

namespace faultline::fakes::gpu {
namespace {

HttpReply call(FakeGpuCluster& cluster, std::string method, std::string path,
               std::string body = "") {
  HttpRequest req;
  req.method = std::move(method);
  req.target = path;
  req.path = std::move(path);
  req.body = std::move(body);
  return route_control_request(cluster, req);
}

nlohmann::json json_of(const HttpReply& r) {
  return nlohmann::json::parse(r.body);
}

TEST(GpuControlRoutes, InjectsAndHealsDeviceFaults) {
  ManualClock clock;
  FakeGpuCluster cluster(clock, {.devices = 2});
  auto r = call(cluster, "POST", "/faults/xid79", R"({"device":1})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r)["faults"]["devices"]["1"][0], "xid79");
  EXPECT_EQ(cluster.device(1).health, GpuHealth::lost);
  r = call(cluster, "DELETE", "/faults/xid79", R"({"device":1})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(cluster.device(1).health, GpuHealth::healthy);
  r = call(cluster, "POST", "/faults/thermal_throttle", R"({"device":0,"duration_ms":1000})");
  EXPECT_EQ(r.status, 200) << r.body;
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(cluster.device(0).health, GpuHealth::healthy);
}

TEST(GpuControlRoutes, ToolingFaultsAndReset) {
  ManualClock clock;
  FakeGpuCluster cluster(clock, {.devices = 1});
  EXPECT_EQ(call(cluster, "POST", "/faults/smi_hang").status, 200);
  EXPECT_EQ(cluster.smi_mode(), SmiMode::hang);
  EXPECT_EQ(call(cluster, "POST", "/faults/xid48", R"({"device":0})").status, 200);
  const auto r = call(cluster, "POST", "/reset");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(cluster.smi_mode(), SmiMode::normal);
  EXPECT_EQ(cluster.device(0).health, GpuHealth::healthy);
  EXPECT_EQ(json_of(call(cluster, "GET", "/faults"))["smi_mode"], "normal");
}

TEST(GpuControlRoutes, LoadAndReadings) {
  ManualClock clock;
  FakeGpuCluster cluster(clock, {.devices = 2});
  auto r = call(cluster, "POST", "/devices/1/load", R"({"utilization":60,"memory_used_mib":2048})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r)["utilization_gpu"], 60);
  r = call(cluster, "GET", "/devices");
  EXPECT_EQ(json_of(r)["devices"][1]["memory_used_mib"], 2048);
  EXPECT_EQ(json_of(call(cluster, "GET", "/health"))["devices"], 2);
}

TEST(GpuControlRoutes, BadRequestsGetClearErrors) {
  ManualClock clock;
  FakeGpuCluster cluster(clock, {.devices = 2});
  auto r = call(cluster, "POST", "/faults/xid97", R"({"device":0})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("did you mean 'xid79'"), std::string::npos) << r.body;
  EXPECT_EQ(call(cluster, "POST", "/faults/xid79", "{").status, 400);
  EXPECT_EQ(call(cluster, "POST", "/faults/xid79", "[1]").status, 400);
  EXPECT_EQ(call(cluster, "POST", "/faults/xid79", "{}").status, 400);
  r = call(cluster, "POST", "/faults/xid79", R"({"device":5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("no device 5"), std::string::npos) << r.body;
  EXPECT_EQ(call(cluster, "POST", "/faults/xid79", R"({"device":0,"duration_ms":-1})").status, 400);
  EXPECT_EQ(call(cluster, "POST", "/devices/1/load", R"({"utilization":"x"})").status, 400);
  EXPECT_EQ(call(cluster, "POST", "/devices/x/load", "{}").status, 404);
  EXPECT_EQ(call(cluster, "POST", "/devices/9/load", "{}").status, 400);
  EXPECT_EQ(call(cluster, "GET", "/nope").status, 404);
  EXPECT_EQ(call(cluster, "PUT", "/faults/xid79", R"({"device":0})").status, 405);
  EXPECT_EQ(call(cluster, "POST", "/health").status, 405);
  EXPECT_EQ(cluster.device(0).health, GpuHealth::healthy);
}

TEST(GpuControlEndpoint, ServesOverLoopbackHttp) {
  ManualClock clock;
  FakeGpuCluster cluster(clock, {.devices = 2});
  EventLoop loop;
  GpuControlEndpoint endpoint(loop, cluster);
  endpoint.start();
  const auto r =
      faultline::testing::http(endpoint.port(), "POST", "/faults/xid48", R"({"device":0})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(cluster.device(0).health, GpuHealth::failed);
  EXPECT_EQ(faultline::testing::http(endpoint.port(), "GET", "/faults").status, 200);
  endpoint.stop();
  EXPECT_THROW(
      {
        GpuControlEndpoint remote(loop, cluster, "10.1.2.3");
        remote.start();
      },
      InputError);
}

}  // namespace
}  // namespace faultline::fakes::gpu
