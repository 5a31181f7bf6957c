// DockerHttp: one HTTP/1.1 exchange with a Docker daemon over a unix socket or TCP, bounded by a
// timeout — the transport under DockerClient. Each exchange opens its own connection. Beast and
// Asio stay in docker_http.cpp.
//
// Thread safety: the functions are reentrant; nothing is shared between calls.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "harness/clients/docker/docker_client.h"

namespace faultline::clients::detail {

struct HttpExchange {
  std::string method;
  std::string target;  // path and query, already versioned
  std::string body;    // sent as application/json when not empty
};

// Sends the request and reads the whole reply. Throws DockerUnavailable on a transport failure
// or when `timeout` passes.
DockerClient::Reply http_exchange(const DockerHost& host, const HttpExchange& request,
                                  std::chrono::milliseconds timeout);

// Sends the request and feeds the reply's body to `on_data` as it arrives, until the daemon ends
// it, `on_data` returns false, or `bound` passes. Returns the status; `stopped` tells whether
// on_data stopped it and `timed_out` whether the bound did. A non-2xx reply's body is read whole
// into `error_body`.
struct StreamResult {
  int status = 0;
  bool stopped = false;
  bool timed_out = false;
  std::string error_body;
};
StreamResult http_stream(const DockerHost& host, const HttpExchange& request,
                         const std::function<bool(const std::string&)>& on_data,
                         std::chrono::milliseconds bound);

// "%2F"-style escaping for a query value or a path segment.
std::string url_escape(const std::string& text);

}  // namespace faultline::clients::detail
