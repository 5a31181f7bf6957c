// ControlServer: the fake's loopback HTTP control endpoint (Boost.Beast, on the fake's EventLoop).
//
// Routes (JSON in and out; errors are {"error": "..."} with 400/404):
//   GET    /status                          what status() returns
//   PUT    /faults/max_connections          {"limit": N}
//   DELETE /faults/max_connections          back to the configured limit
//   PUT    /faults/refuse_connections       listener closed (ECONNREFUSED)
//   DELETE /faults/refuse_connections
//   PUT    /faults/read_only                writes fail with 25006
//   DELETE /faults/read_only
//   POST   /faults/slow_queries             {"pattern": "regex", "delay_ms": N}   -> {"id": n}
//   POST   /faults/query_errors             {"pattern", "sqlstate", "message", "fatal": false}
//   DELETE /faults/rules/{id}               remove one slow-query or query-error rule
//   POST   /actions/crash                   {"refuse_ms": N}
//   POST   /actions/admin_shutdown          {"refuse_ms": N}   (0: terminate sessions only)
//   DELETE /faults                          heal everything
//   GET    /dump                            the catalog as SQL (text/plain)
//   POST   /load                            body: SQL text; replaces the catalog
// Served by harness/core HttpServer (keep-alive; bodies above 1 MiB are refused with 413).
//
// Thread safety: construct, start and stop from any thread but the loop's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace faultline {
class EventLoop;
}

namespace faultline::pg {

class PostgresFake;

class ControlServer {
 public:
  ControlServer(EventLoop& loop, PostgresFake& fake, std::string host = "127.0.0.1",
                std::uint16_t port = 0);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Throws Error if the address is not loopback or cannot be bound.
  void start();
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace faultline::pg
