// HttpServer: HTTP/1.1 on a unix socket and/or a loopback TCP port, with Boost.Beast on an
// EventLoop, handing each request to a handler (the Docker router, or the control routes).
//
// Keep-alive; a request body is limited to 4 MiB (413 beyond); a malformed request gets 400 with
// {"message"} and the connection is closed. Deferred replies (HttpReply::defer) are answered when
// ready, streamed replies (HttpReply::stream) are sent chunked until they end or the client goes.
// While stalled, requests are read but held; releasing the stall answers them in order. Beast
// and Asio stay in http_server.cpp.
//
// Thread safety: all members may be called from any thread but the loop's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "fakes/docker/api_types.h"

namespace faultline {
class EventLoop;
}

namespace faultline::fakes::docker {

class HttpServer {
 public:
  using Handler = std::function<HttpReply(HttpRequest)>;
  HttpServer(EventLoop& loop, Handler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on a unix socket at `path` (a stale socket file there is replaced; any other file
  // is an error). The file is removed by stop().
  void listen_unix(const std::string& path);
  // Listens on host:port (loopback only; port 0 = ephemeral) and returns the port.
  std::uint16_t listen_tcp(const std::string& host, std::uint16_t port);
  // Closes listeners and connections (ending streams), removes the socket file. Idempotent.
  void stop();

  void set_stalled(bool stalled);
  std::uint64_t requests_served() const;

  struct Impl;  // public so the sessions in http_server.cpp can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace faultline::fakes::docker
