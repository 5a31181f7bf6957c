// ServiceExporter: gives every service of a running stack the /health and /metrics endpoints seed
// 000 asks of each service, the way postgres_exporter and redis_exporter sit beside a database
// that cannot serve HTTP itself.
//
// For each service it runs one HealthEndpoint on loopback (its own port):
//   /health   the service's own check over its own protocol (redis PING, postgres SELECT 1,
//             kafka metadata, else a TCP connect), 503 naming the service and what failed;
//   /metrics  the service's statistics (service_stats.h) plus
//             faultline_exporter_up_ratio{service,kind} (1 when the last read succeeded) and
//             faultline_exporter_read_duration_seconds{service,kind} (how long the read took).
// The endpoints run on the exporter's own EventLoop: a read blocks only the exporter, never the
// loop the fakes answer on.
//
// log_sessions() writes, as faultline log lines of component "<service>", each named client
// session the server reports (postgres application_name + last query, redis CLIENT SETNAME + last
// command), under a CorrelationScope of that name: an application that names its connections
// after the request's correlation id gets the server's side of the request in the same log,
// under the same id. Lines pass through the process Redactor like every other log line.
//
// A service the stack restarts may come back elsewhere (a container gets a new published port):
// update_address() points the service's endpoints at the new address, for the next /health and
// /metrics; StackSession calls it after each health-monitoring round.
//
// Thread safety: construct, start, stop from one thread (not the exporter's loop); urls(),
// port(), services(), update_address() and log_sessions() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/ops/service_stats.h"

namespace faultline::ops {

struct ExportedService {
  std::string name;  // the stack's service name, e.g. "postgres"
  ServiceAddress address;
};

struct ServiceExporterOptions {
  std::string host = "127.0.0.1";                   // where the endpoints listen (loopback)
  std::chrono::milliseconds check_timeout{10'000};  // /health's bound (seed 000's --timeout)
  std::chrono::milliseconds read_timeout{2'000};    // one connection to the service
};

class ServiceExporter {
 public:
  // Throws InputError naming the problem for an invalid configuration: no services, a service
  // without a name or kind, a duplicate name, a port outside 1..65535, kafka without a bootstrap
  // list, a non-positive timeout, or a read timeout longer than the check timeout.
  explicit ServiceExporter(std::vector<ExportedService> services,
                           ServiceExporterOptions options = {});
  ~ServiceExporter();
  ServiceExporter(const ServiceExporter&) = delete;
  ServiceExporter& operator=(const ServiceExporter&) = delete;

  void start();  // binds every endpoint; throws as HttpServer::start does
  void stop();

  // service -> "http://127.0.0.1:PORT" (serving /health and /metrics); empty before start().
  std::map<std::string, std::string> urls() const;
  std::uint16_t port(const std::string& service) const;  // throws UsageError for an unknown one
  std::vector<ExportedService> services() const;         // with their current addresses

  // Points `service`'s endpoints at `address` from now on; true if it differed. Throws
  // UsageError for a service the exporter does not serve, InputError for an invalid address (the
  // constructor's rules).
  bool update_address(const std::string& service, const ServiceAddress& address);

  // Logs the named sessions every service reports now; returns how many lines it wrote.
  std::size_t log_sessions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::ops
