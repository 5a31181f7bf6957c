// HttpServer: the one small HTTP/1.1 server behind faultline's loopback APIs — the fault proxy's
// Toxiproxy API, the fakes' control endpoints and the ops /health and /metrics endpoint.
//
// A server owns a listening socket on an EventLoop and hands each complete request to one handler
// function, which returns the reply. It speaks HTTP/1.1 with keep-alive, limits the request body
// (413 beyond), answers a request it cannot parse with 400 and closes that connection, answers a
// handler's exception with 500 naming it, and drops a connection idle for `idle` (a socket guard
// against half-sent requests, timed by Asio, not the run's Clock, because it decides nothing in a
// run). Error bodies are JSON: {"error": "...", "status": N}. By default it binds only loopback
// addresses: a control API is not something to expose by accident.
//
// Beast and Asio stay in http_server.cpp.
//
// Thread safety: construct, start, stop and destroy from any thread but the loop's; the handler
// runs on the loop thread, one request at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/core/error.h"

namespace faultline {

class EventLoop;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/proxies/a?x=1"
  std::string path;    // the target without its query: "/proxies/a"
  std::string query;   // after '?', may be empty
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case

  // The header's value, or "" when absent; `name` in lower case.
  std::string header(const std::string& name) const;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;  // extra headers

  static HttpReply json(int status, const nlohmann::json& body);
  // {"error": message, "status": status}
  static HttpReply error(int status, const std::string& message);
  static HttpReply text(int status, std::string body, std::string content_type = "text/plain");
};

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port
  std::size_t body_limit = 1 << 20;
  std::chrono::seconds idle{60};
  std::string server_name = "faultline";
  bool loopback_only = true;  // refuse to bind anything else
};

// The address could not be bound because it is in use (APIs map it to 409).
class AddressInUse : public Error {
 public:
  using Error::Error;
};

class HttpServer {
 public:
  HttpServer(EventLoop& loop, HttpHandler handler, HttpServerOptions options = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Throws InputError for a host that is not an IP address (or not
  // loopback when loopback_only), AddressInUse, or Error for any other bind failure.
  void start();
  // Stops accepting and closes every connection; idempotent.
  void stop();

  std::uint16_t port() const;
  // The bound address, e.g. "127.0.0.1:8474" or "[::1]:8474".
  std::string address() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// "host:port" -> {host, port}; "[::1]:80" -> {"::1", 80}; ":80" -> {"", 80}. Throws InputError
// naming `what` when it is not of that form or the port is not 0..65535.
std::pair<std::string, std::uint16_t> parse_host_port(const std::string& address,
                                                      const std::string& what);

}  // namespace faultline
