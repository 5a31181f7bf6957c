#include "fakes/gpu/control_http.h"

#include "fakes/gpu/gpu_model.h"

namespace faultline::fakes::gpu {

struct GpuControlEndpoint::Impl {
  Impl(EventLoop& loop, FakeGpuCluster& cluster, std::string host, std::uint16_t port)
      : server(
            loop,
            [&cluster](const HttpRequest& req) { return route_control_request(cluster, req); },
            options_for(std::move(host), port)) {}
  static HttpServerOptions options_for(std::string host, std::uint16_t port) {
    HttpServerOptions o;
    o.host = std::move(host);
    o.port = port;
    o.body_limit = 64 * 1024;
    o.server_name = "faultline-fake-gpu";
    return o;
  }
  HttpServer server;
};

GpuControlEndpoint::GpuControlEndpoint(EventLoop& loop, FakeGpuCluster& cluster, std::string host,
                                       std::uint16_t port)
    : impl_(std::make_unique<Impl>(loop, cluster, std::move(host), port)) {}

GpuControlEndpoint::~GpuControlEndpoint() = default;

void GpuControlEndpoint::start() {
  impl_->server.start();
}

void GpuControlEndpoint::stop() {
  impl_->server.stop();
}

std::uint16_t GpuControlEndpoint::port() const {
  return impl_->server.port();
}

}  // namespace faultline::fakes::gpu
