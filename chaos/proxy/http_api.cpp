#include "chaos/proxy/http_api.h"

#include <optional>

#include "chaos/proxy/api_routes.h"
#include "chaos/proxy/proxy.h"
#include "chaos/proxy/proxy_server.h"
#include "harness/core/http_server.h"
#include "harness/core/log.h"

namespace faultline::proxy {

struct HttpApi::Impl {
  std::optional<HttpServer> server;
  std::string address;
};

HttpApi::HttpApi(ProxyServer& server, const std::string& listen) : impl_(std::make_shared<Impl>()) {
  auto [host, port] = split_host_port(listen, "api address");
  HttpServerOptions options;
  options.host = host.empty() ? "127.0.0.1" : host;
  try {
    options.port = static_cast<std::uint16_t>(std::stoul(port));
  } catch (const std::exception&) {
    throw ApiError(400, "api address '" + listen + "' has no valid port");
  }
  // The API binds loopback by default; a person may ask for another address on purpose.
  options.loopback_only = false;
  options.server_name = "faultline-proxy";
  auto handler = [&server](const HttpRequest& req) {
    const ApiReply reply =
        route_api_request(server, req.method, req.target, req.body, req.header("user-agent"));
    HttpReply out;
    out.status = reply.status;
    out.content_type = reply.content_type;
    out.body = reply.body;
    return out;
  };
  try {
    impl_->server.emplace(server.loop(), handler, options);
    impl_->server->start();
  } catch (const AddressInUse& e) {
    throw ApiError(409, "api listen " + listen + ": " + e.what());
  } catch (const Error& e) {
    throw ApiError(400, "api listen " + listen + ": " + e.what());
  }
  impl_->address = impl_->server->address();
  log::info("proxy", "api listening", {{"address", impl_->address}});
}

HttpApi::~HttpApi() = default;

const std::string& HttpApi::address() const {
  return impl_->address;
}

std::uint16_t HttpApi::port() const {
  return impl_->server->port();
}

}  // namespace faultline::proxy
