// HttpApi: the Toxiproxy-compatible HTTP API (api_routes.h) served with Boost.Beast on the
// ProxyServer's EventLoop.
//
// It listens on 127.0.0.1:8474 unless told otherwise, serves HTTP/1.1 with keep-alive, limits a
// request body to 1 MiB (413 beyond), answers a malformed request with 400 and closes that
// connection, and drops a connection idle for 60 s (a socket-level guard against half-sent
// requests, timed by Asio rather than the run's Clock because it decides nothing in a run).
// Beast and Asio stay in http_api.cpp.
//
// Thread safety: construct and destroy from any thread but the loop's; the server itself runs on
// the loop thread.
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
