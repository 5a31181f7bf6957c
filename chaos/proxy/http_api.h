// HttpApi: the Toxiproxy-compatible HTTP API (api_routes.h), served by harness/core's HttpServer
// on the ProxyServer's EventLoop.
//
// It listens on 127.0.0.1:8474 unless told otherwise; HttpServer gives it HTTP/1.1 with
// keep-alive, the 1 MiB body limit (413), 400 for a malformed request, and the idle guard.
//
// Thread safety: construct and destroy from any thread but the loop's; requests are served on the
// loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace faultline::proxy {

class ProxyServer;

class HttpApi {
 public:
  // Binds `listen` ("host:port"; port 0 picks one). Throws ApiError(409) if the address is in
  // use, ApiError(400) if it is not an address.
  HttpApi(ProxyServer& server, const std::string& listen = "127.0.0.1:8474");
  ~HttpApi();  // stops listening and closes the API's connections
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // The bound address, e.g. "127.0.0.1:8474".
  const std::string& address() const;
  std::uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace faultline::proxy
