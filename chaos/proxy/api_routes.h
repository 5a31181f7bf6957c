// The Toxiproxy 2.x HTTP API as a pure function: (method, target, body) -> reply.
//
// Same routes, JSON shapes and status codes as Toxiproxy's api.go: GET/POST /proxies,
// GET/POST/PATCH/DELETE /proxies/{proxy}, GET/POST /proxies/{proxy}/toxics,
// GET/POST/PATCH/DELETE /proxies/{proxy}/toxics/{toxic}, POST /populate, POST /reset,
// GET /version; plus GET /metrics (Prometheus text). Errors are {"error": ..., "status": ...}
// with Toxiproxy's messages. As in Toxiproxy, a request whose User-Agent starts with "Mozilla/"
// is refused (403), so a web page cannot drive the proxy from a developer's browser. Kept apart
// from the HTTP server (http_api.cpp) so the routing can be read, and tested, without sockets.
//
// Thread safety: as ProxyServer's.
#pragma once

#include <string>
#include <string_view>

namespace faultline::proxy {

class ProxyServer;

struct ApiReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// The version /version reports.
std::string api_version();

ApiReply route_api_request(ProxyServer& server, std::string_view method, std::string_view target,
                           std::string_view body, std::string_view user_agent = {});

}  // namespace faultline::proxy
