// StackSession: one stack brought up on a named backend, with everything that needs — the real
// clock, the event loop the fakes run on, a journal, the backend and the Orchestrator. It is what
// `faultline up` and the GoogleTest StackEnvironment share.
//
// Services the backend cannot run (unavailable(), e.g. kafka on the fake backend until its fake
// lands) are left out with their reason, and so are the services that need them, so the rest of
// the stack still comes up; unavailable() lists them. Backend names: "fake", "local",
// "external"; "" chooses local where the machine can run every service the fakes can, else fake.
//
// Once the services are up, start() also starts a ServiceExporter (harness/ops) in front of them:
// every running service answers /health and /metrics on a loopback port of its own, and exports()
// names them as FAULTLINE_HEALTH_<SERVICE> and FAULTLINE_METRICS_<SERVICE> (REQ-INFRA-08).
//
// Thread safety: one thread drives a session; construct it (and call start) on a thread that
// lives as long as the stack should (supervised servers die with the thread that forked them).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/core/clock.h"
#include "harness/core/run_dir.h"
#include "harness/ops/service_exporter.h"
#include "harness/stack/backend.h"
#include "harness/stack/orchestrator.h"

namespace faultline::backends {

struct StackSessionOptions {
  std::string backend;  // fake | local | external | "" (choose)
  std::uint64_t seed = 0;
  std::filesystem::path journal_path;  // empty: in memory only
  stack::OrchestratorOptions orchestrator;
  bool exporter = true;  // start the ServiceExporter once the services are up
};

class StackSession {
 public:
  // Throws UsageError for an unknown backend name.
  StackSession(RunDirectory& run, stack::Stack stack, StackSessionOptions options);
  ~StackSession();
  StackSession(const StackSession&) = delete;
  StackSession& operator=(const StackSession&) = delete;

  std::vector<stack::ServiceStatus> start();  // throws StartError (everything stopped)
  std::vector<stack::ServiceStatus> monitor();
  void stop();

  const std::string& backend_name() const;
  const stack::Stack& stack() const;                              // the services that run
  const std::map<std::string, std::string>& unavailable() const;  // left out: service -> reason
  stack::Orchestrator& orchestrator();
  stack::ServiceHandle* handle(const std::string& service) const;
  Clock& clock();
  Journal& journal();
  std::map<std::string, stack::Endpoint> endpoints() const;
  // Every running service's exports, plus <SERVICE>_URL for each (first service of a kind wins
  // a shared name such as REDIS_URL).
  std::map<std::string, std::string> exports() const;
  // The exporter serving every service's /health and /metrics; nullptr before start() or when
  // the options turned it off.
  ops::ServiceExporter* exporter() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::backends
