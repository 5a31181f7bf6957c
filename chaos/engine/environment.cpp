#include "chaos/engine/environment.h"

#include <map>
#include <set>

#include "chaos/engine/default_stack_text.h"  // generated
#include "chaos/netns/network_namespace.h"
#include "chaos/proxy/proxy_server.h"
#include "harness/backends/external_backend.h"
#include "harness/backends/fake_backend.h"
#include "harness/backends/local_backend.h"
#include "harness/clients/postgres/connection_pool.h"
#include "harness/core/event_loop.h"
#include "harness/core/run_dir.h"
#include "harness/stack/orchestrator.h"

namespace faultline::chaos {

stack::Stack default_stack() {
  return stack::parse_stack_file(kDefaultStackText, "fixtures/stacks/default.yaml (embedded)");
}

stack::Stack load_scenario_stack(const std::string& name, const std::filesystem::path& base) {
  if (name.empty() || name == "default") return default_stack();
  std::filesystem::path p(name);
  if (p.is_relative()) p = base / p;
  return stack::load_stack_file(p);
}

namespace {

std::string endpoint_setting(const stack::Endpoint& e, const stack::Service& s, const char* env,
                             const char* setting) {
  if (auto it = e.exports.find(env); it != e.exports.end() && !it->second.empty())
    return it->second;
  return s.setting(setting, "postgres");
}

// The services of `names` and everything they depend on, in file order.
stack::Stack sub_stack(const stack::Stack& full, const std::vector<std::string>& names) {
  std::set<std::string> want;
  std::vector<std::string> todo(names.begin(), names.end());
  while (!todo.empty()) {
    std::string n = todo.back();
    todo.pop_back();
    const auto* s = full.find(n);
    if (!s) throw Error("the stack '" + full.name + "' has no service '" + n + "'");
    if (!want.insert(n).second) continue;
    for (const auto& d : s->depends_on) todo.push_back(d.service);
  }
  stack::Stack out = full;
  out.services.clear();
  for (const auto& s : full.services)
    if (want.count(s.name)) out.services.push_back(s);
  return out;
}

}  // namespace

struct Environment::Impl {
  EnvironmentOptions options;
  stack::Stack full;
  stack::Stack running;
  std::unique_ptr<ManualClock> manual;
  std::unique_ptr<RealClock> real;
  Clock* clock = nullptr;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<OpDriver> driver;
  std::unique_ptr<RunDirectory> run;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<stack::Backend> backend;
  backends::LocalBackend* local = nullptr;  // backend, when it is the local one
  std::unique_ptr<stack::Orchestrator> orchestrator;
  std::unique_ptr<proxy::ProxyServer> proxies;
  std::map<std::string, proxy::ProxyHandle> proxy_of;
  // Services reached without a proxy: off loopback and not chaos-allowed (no fault may touch them).
  std::map<std::string, std::string> direct_of;
  std::unique_ptr<clients::ConnectionPool> pool;
};

Environment::Environment(EnvironmentOptions options, stack::Stack stack)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.options = std::move(options);
  m.full = std::move(stack);
  if (m.options.backend == "fake") {
    m.manual = std::make_unique<ManualClock>();
    m.clock = m.manual.get();
  } else {
    m.real = std::make_unique<RealClock>();
    m.clock = m.real.get();
  }
  m.journal = std::make_unique<Journal>(*m.clock, m.options.journal_path);
  m.driver = std::make_unique<OpDriver>(m.manual.get());
  m.run = std::make_unique<RunDirectory>(RunDirectory::create("chaos"));
  m.loop = std::make_unique<EventLoop>();
  if (m.options.backend == "fake") {
    m.backend = std::make_unique<backends::FakeBackend>(*m.run, *m.clock, *m.loop);
  } else if (m.options.backend == "local") {
    auto local = std::make_unique<backends::LocalBackend>(*m.run, *m.clock);
    m.local = local.get();
    m.backend = std::move(local);
  } else if (m.options.backend == "external") {
    m.backend = std::make_unique<backends::ExternalBackend>();
  } else {
    throw UsageError("backend '" + m.options.backend + "' is not one of fake, local, external");
  }
  m.proxies = std::make_unique<proxy::ProxyServer>(
      *m.loop, *m.clock, Rng(m.options.seed).child("proxy"), nullptr, m.run.get());
}

Environment::~Environment() {
  try {
    stop();
  } catch (const std::exception&) {
    // Destructors do not throw; stop() already healed what it could.
  }
}

const std::string& Environment::backend() const {
  return impl_->options.backend;
}
const stack::Stack& Environment::stack() const {
  return impl_->full;
}
Clock& Environment::clock() {
  return *impl_->clock;
}
ManualClock* Environment::manual_clock() {
  return impl_->manual.get();
}
Journal& Environment::journal() {
  return *impl_->journal;
}
OpDriver& Environment::driver() {
  return *impl_->driver;
}
Rng Environment::rng(const std::string& name) const {
  return Rng(impl_->options.seed).child(name);
}
proxy::ProxyServer& Environment::proxies() {
  return *impl_->proxies;
}
RunDirectory& Environment::run_directory() {
  return *impl_->run;
}
EventLoop& Environment::loop() {
  return *impl_->loop;
}

void Environment::start(const std::vector<std::string>& services) {
  auto& m = *impl_;
  m.running = sub_stack(m.full, services);
  for (const auto& s : m.running.services)
    if (auto why = m.backend->unavailable(s))
      throw Error("service '" + s.name + "' cannot run on the " + m.options.backend +
                  " backend: " + *why);
  stack::OrchestratorOptions o;
  o.backoff_base = std::chrono::milliseconds(500);
  m.orchestrator =
      std::make_unique<stack::Orchestrator>(m.running, *m.backend, *m.clock, nullptr, o);
  m.driver->run([&] { m.orchestrator->start_services(); });
  for (const auto& s : m.running.services) {
    auto* h = m.orchestrator->handle(s.name);
    if (!h || h->endpoint().port == 0) continue;
    proxy::ProxyConfig c;
    c.name = s.name;
    c.listen = "127.0.0.1:0";
    c.upstream = h->endpoint().host + ":" + std::to_string(h->endpoint().port);
    // The proxy refuses a host off loopback unless allowed: the stack file allows exactly the
    // services it marks chaos-allowed.
    if (stack::chaos_allowed(s, m.options.backend))
      m.proxies->allow_remote_host(h->endpoint().host);
    // A network namespace this run made for the service (isolate_network) is reachable too.
    if (const auto ns = network_namespace(s.name))
      m.proxies->allow_remote_host(ns->namespace_address());
    try {
      m.proxy_of.emplace(s.name, m.proxies->add_proxy(c));
    } catch (const proxy::ApiError& e) {
      if (e.status() != 403) throw;
      m.direct_of.emplace(s.name, c.upstream);
    }
  }
}

std::optional<std::string> Environment::isolate_network(const std::string& service) {
  auto& m = *impl_;
  if (!m.local) {
    return "a network namespace needs the local backend (a real server started inside it), not " +
           m.options.backend;
  }
  const auto* s = m.full.find(service);
  if (!s) return "the stack '" + m.full.name + "' has no service '" + service + "'";
  return m.local->isolate_network(*s);
}

std::shared_ptr<netns::NetworkNamespace> Environment::network_namespace(
    const std::string& service) const {
  return impl_->local ? impl_->local->network_namespace(service) : nullptr;
}

void Environment::monitor() {
  if (impl_->orchestrator) impl_->driver->run([&] { impl_->orchestrator->monitor_health(); });
}

void Environment::stop() {
  auto& m = *impl_;
  m.pool.reset();
  m.proxy_of.clear();
  if (m.orchestrator) {
    m.orchestrator->stop_services();
    m.orchestrator.reset();
  }
}

stack::ServiceHandle* Environment::handle(const std::string& service) const {
  return impl_->orchestrator ? impl_->orchestrator->handle(service) : nullptr;
}

std::string Environment::address(const std::string& service) const {
  auto it = impl_->proxy_of.find(service);
  if (it != impl_->proxy_of.end()) return "127.0.0.1:" + std::to_string(it->second.port());
  if (auto d = impl_->direct_of.find(service); d != impl_->direct_of.end()) return d->second;
  throw Error("service '" + service + "' has no proxy");
}

std::string Environment::proxy_name(const std::string& service) const {
  auto it = impl_->proxy_of.find(service);
  if (it == impl_->proxy_of.end()) throw Error("service '" + service + "' has no proxy");
  return it->second.name();
}

bool Environment::chaos_allowed(const std::string& service) const {
  const auto* s = impl_->full.find(service);
  return s && stack::chaos_allowed(*s, impl_->options.backend);
}

clients::ConnectionPool& Environment::pool(const std::string& service,
                                           const nlohmann::json& params) {
  auto& m = *impl_;
  if (m.pool) return *m.pool;
  const auto* s = m.full.find(service);
  auto* h = handle(service);
  if (!s || !h) throw Error("service '" + service + "' is not running");
  clients::PoolConfig c;
  const auto& e = h->endpoint();
  c.conninfo = "host=127.0.0.1 port=" + std::to_string(impl_->proxy_of.at(service).port()) +
               " user=" + endpoint_setting(e, *s, "PGUSER", "user") +
               " dbname=" + endpoint_setting(e, *s, "PGDATABASE", "database");
  c.size = params.value("size", 4);
  c.max_overflow = params.value("max_overflow", 0);
  c.timeout = std::chrono::milliseconds(params.value("timeout_ms", 2000));
  c.reconnect_attempts = params.value("reconnect_attempts", 2);
  c.reconnect_backoff = std::chrono::milliseconds(params.value("backoff_ms", 200));
  c.connect_timeout_seconds = 5;
  c.name = "app-pool";
  m.pool = std::make_unique<clients::ConnectionPool>(c, *m.clock, nullptr);
  return *m.pool;
}

clients::ConnectionPool* Environment::existing_pool() const {
  return impl_->pool.get();
}

}  // namespace faultline::chaos
