// The fake daemon's HTTP request and reply, independent of Beast: the router turns an HttpRequest
// into an HttpReply; the server (http_server.cpp) moves them over the socket. A reply is either
// immediate (status + body), deferred (produced later, e.g. /containers/{id}/wait), or a stream
// of chunks (/events). ApiError carries a dockerd status code and message ({"message": ...}).
//
// Thread safety: plain values. The `defer`/`stream` callbacks document their own contracts.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "harness/core/error.h"

namespace faultline::fakes::docker {

class ApiError : public Error {
 public:
  ApiError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct HttpRequest {
  std::string method;       // GET, POST, HEAD, DELETE, ...
  std::string target;       // as sent: /v1.47/containers/json?all=1
  std::string path;         // without version prefix and query: /containers/json
  std::string api_version;  // from the path, or the daemon's maximum when unversioned
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // Deferred reply: the server calls defer(done) once; `done(reply)` must be called exactly once,
  // from any thread (the server posts it to its loop).
  std::function<void(std::function<void(HttpReply)>)> defer;

  // Streamed reply (chunked): the server sends the status and headers, then calls
  // stream(write, end). write(chunk) and end() may be called from any thread; the returned
  // function cancels the stream (called once when the client goes away or the server stops).
  using Write = std::function<void(std::string)>;
  using End = std::function<void()>;
  std::function<std::function<void()>(Write, End)> stream;

  static HttpReply json(int status, const std::string& body) {
    HttpReply r;
    r.status = status;
    r.body = body;
    return r;
  }
  static HttpReply empty(int status) {
    HttpReply r;
    r.status = status;
    r.content_type.clear();
    return r;
  }
  static HttpReply error(int status, const std::string& message);
};

// Percent-decodes a query component ('+' is a space). Malformed escapes are kept literally.
std::string url_decode(const std::string& text);
// Splits "a=1&b=2" into a map (later keys win).
std::map<std::string, std::string> parse_query(const std::string& query);

}  // namespace faultline::fakes::docker
