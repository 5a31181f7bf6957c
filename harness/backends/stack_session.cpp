#include "harness/backends/stack_session.h"

#include <cctype>
#include <cstdlib>
#include <set>

#include "harness/backends/docker/docker_backend.h"
#include "harness/backends/external_backend.h"
#include "harness/backends/fake_backend.h"
#include "harness/backends/local_backend.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"

namespace faultline::backends {

struct StackSession::Impl {
  RealClock clock;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<stack::Backend> backend;
  std::string backend_name;
  stack::Stack stack;
  std::map<std::string, std::string> unavailable;
  std::unique_ptr<stack::Orchestrator> orchestrator;
  bool want_exporter = true;
  std::unique_ptr<ops::ServiceExporter> exporter;
};

namespace {

std::unique_ptr<stack::Backend> make_backend(const std::string& name, RunDirectory& run,
                                             Clock& clock, EventLoop& loop, Journal& journal,
                                             std::uint64_t seed) {
  if (name == "fake") return std::make_unique<FakeBackend>(run, clock, loop, &journal, seed);
  if (name == "local") return std::make_unique<LocalBackend>(run, clock);
  if (name == "external") return std::make_unique<ExternalBackend>();
  if (name == "docker") {
    DockerBackendOptions o;  // DOCKER_HOST from the environment
    o.run = &run;
    return std::make_unique<DockerBackend>(o);
  }
  throw UsageError("unknown backend '" + name + "' (expected fake, local, docker or external)");
}

// Local where it can run every service the fakes can, else fake.
std::string choose_backend(const stack::Stack& stack, RunDirectory& run, Clock& clock,
                           EventLoop& loop) {
  FakeBackend fake(run, clock, loop);
  LocalBackend local(run, clock);
  for (const auto& s : stack.services) {
    if (!fake.unavailable(s) && local.unavailable(s)) return "fake";
  }
  return "local";
}

// Leaves out what `backend` cannot run and, transitively, what requires it.
stack::Stack runnable(const stack::Stack& stack, const stack::Backend& backend,
                      std::map<std::string, std::string>& left_out) {
  for (const auto& s : stack.services) {
    if (auto why = backend.unavailable(s)) left_out[s.name] = *why;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& s : stack.services) {
      if (left_out.count(s.name)) continue;
      for (const auto& d : s.depends_on) {
        if (d.required && left_out.count(d.service)) {
          left_out[s.name] = "it depends on '" + d.service + "', which is unavailable";
          changed = true;
          break;
        }
      }
    }
  }
  stack::Stack out = stack;
  std::erase_if(out.services, [&](const stack::Service& s) { return left_out.count(s.name); });
  for (auto& s : out.services) {
    std::erase_if(s.depends_on,
                  [&](const stack::Dependency& d) { return left_out.count(d.service); });
  }
  return out;
}

std::string env_name(const std::string& service) {
  std::string out;
  for (char c : service) out += std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
  return out;
}

// How the exporter reaches a running service: its kind, endpoint and (postgres) credentials, the
// password read from the environment variable its password-env setting names.
ops::ExportedService exported(const stack::Service& service, const stack::Endpoint& endpoint) {
  ops::ExportedService e;
  e.name = service.name;
  e.address.kind = std::string(stack::to_string(service.kind));
  e.address.host = endpoint.host.empty() ? "127.0.0.1" : endpoint.host;
  e.address.port = endpoint.port;
  e.address.unix_socket = endpoint.unix_socket;
  auto get = [&](const char* key) {
    auto it = endpoint.exports.find(key);
    return it == endpoint.exports.end() ? std::string() : it->second;
  };
  e.address.bootstrap = get("KAFKA_BOOTSTRAP");
  e.address.user = get("PGUSER");
  e.address.database = get("PGDATABASE");
  if (const std::string var = service.setting("password-env"); !var.empty()) {
    if (const char* value = std::getenv(var.c_str())) e.address.password = value;
  }
  return e;
}

// Whether a service has an address the exporter can reach (a container the engine publishes no
// port for has none).
bool exportable(const stack::Endpoint& e) {
  return e.port > 0 || !e.unix_socket.empty() || e.exports.count("KAFKA_BOOTSTRAP") > 0;
}

}  // namespace

StackSession::StackSession(RunDirectory& run, stack::Stack stack, StackSessionOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->loop = std::make_unique<EventLoop>();
  impl_->journal = std::make_unique<Journal>(impl_->clock, options.journal_path);
  impl_->backend_name = options.backend.empty()
                            ? choose_backend(stack, run, impl_->clock, *impl_->loop)
                            : options.backend;
  impl_->backend = make_backend(impl_->backend_name, run, impl_->clock, *impl_->loop,
                                *impl_->journal, options.seed);
  impl_->stack = runnable(stack, *impl_->backend, impl_->unavailable);
  if (impl_->stack.services.empty()) {
    throw Error("the " + impl_->backend_name + " backend can run none of the services of stack '" +
                stack.name + "'");
  }
  impl_->orchestrator = std::make_unique<stack::Orchestrator>(
      impl_->stack, *impl_->backend, impl_->clock, impl_->journal.get(), options.orchestrator);
  impl_->want_exporter = options.exporter;
}

StackSession::~StackSession() {
  impl_->exporter.reset();
  impl_->orchestrator.reset();  // stops the services before their backend goes
  impl_->backend.reset();
}

std::vector<stack::ServiceStatus> StackSession::start() {
  auto statuses = impl_->orchestrator->start_services();
  if (impl_->want_exporter && !impl_->exporter) {
    std::vector<ops::ExportedService> services;
    for (const auto& s : impl_->stack.services) {
      auto* h = handle(s.name);
      if (h && exportable(h->endpoint())) services.push_back(exported(s, h->endpoint()));
    }
    if (!services.empty()) {
      impl_->exporter = std::make_unique<ops::ServiceExporter>(std::move(services));
      impl_->exporter->start();
    }
  }
  return statuses;
}
std::vector<stack::ServiceStatus> StackSession::monitor() {
  auto statuses = impl_->orchestrator->monitor_health();
  // A restarted service may be somewhere else now (a container's new published port).
  if (impl_->exporter) {
    for (const auto& served : impl_->exporter->services()) {
      const stack::Service* s = impl_->stack.find(served.name);
      auto* h = handle(served.name);
      if (!s || !h || !exportable(h->endpoint())) continue;
      try {
        impl_->exporter->update_address(served.name, exported(*s, h->endpoint()).address);
      } catch (const InputError& e) {  // keeps the old address; the stack keeps running
        log::warn("exporter", "cannot follow the service",
                  {{"service", served.name}, {"error", e.what()}});
      }
    }
  }
  return statuses;
}
void StackSession::stop() {
  impl_->exporter.reset();
  impl_->orchestrator->stop_services();
}
const std::string& StackSession::backend_name() const {
  return impl_->backend_name;
}
const stack::Stack& StackSession::stack() const {
  return impl_->stack;
}
const std::map<std::string, std::string>& StackSession::unavailable() const {
  return impl_->unavailable;
}
stack::Orchestrator& StackSession::orchestrator() {
  return *impl_->orchestrator;
}
stack::ServiceHandle* StackSession::handle(const std::string& service) const {
  return impl_->orchestrator->handle(service);
}
Clock& StackSession::clock() {
  return impl_->clock;
}
Journal& StackSession::journal() {
  return *impl_->journal;
}

std::map<std::string, stack::Endpoint> StackSession::endpoints() const {
  std::map<std::string, stack::Endpoint> out;
  for (const auto& s : impl_->stack.services) {
    if (auto* h = handle(s.name)) out[s.name] = h->endpoint();
  }
  return out;
}

std::map<std::string, std::string> StackSession::exports() const {
  std::map<std::string, std::string> out;
  for (const auto& s : impl_->stack.services) {
    auto* h = handle(s.name);
    if (!h) continue;
    for (const auto& [k, v] : h->endpoint().exports) out.emplace(k, v);
    if (!h->endpoint().url.empty()) out[env_name(s.name) + "_URL"] = h->endpoint().url;
  }
  if (impl_->exporter) {
    for (const auto& [service, url] : impl_->exporter->urls()) {
      out["FAULTLINE_HEALTH_" + env_name(service)] = url + "/health";
      out["FAULTLINE_METRICS_" + env_name(service)] = url + "/metrics";
    }
  }
  return out;
}

ops::ServiceExporter* StackSession::exporter() const {
  return impl_->exporter.get();
}

}  // namespace faultline::backends
