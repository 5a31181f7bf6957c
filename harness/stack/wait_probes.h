// The blocking looks the wait strategies take at a service from the harness's host: a TCP
// connect, an HTTP GET, a command run to completion. Each is bounded by its timeout and reports
// what it saw; none throws for what the service does (refusal, garbage, a hang).
//
// Thread safety: free functions without shared state.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace faultline::stack {

struct Look {
  bool ok = false;
  std::string detail;
};

// Connects to host:port (IPv4 or IPv6 literal, or "localhost") and closes at once.
Look tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout);

struct HttpLook {
  bool answered = false;
  int status = 0;
  std::string body;
  std::string detail;  // the failure, when not answered
};
// GET `path` over HTTP/1.1 with Connection: close; reads at most 64 KiB of the answer.
HttpLook http_get(const std::string& host, int port, const std::string& path,
                  std::chrono::milliseconds timeout);

// Runs argv with `env` added to the environment, its output discarded; ok when it exits 0.
Look run_command(const std::vector<std::string>& argv,
                 const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout);

}  // namespace faultline::stack
