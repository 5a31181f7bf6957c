#include "harness/ops/service_exporter.h"

#include <mutex>
#include <set>

#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/log.h"
#include "harness/ops/health_endpoint.h"

namespace faultline::ops {
namespace {

void validate_address(const std::string& name, const ServiceAddress& a) {
  auto bad = [](const std::string& what) { throw InputError({}, "service exporter: " + what); };
  if (a.kind.empty()) bad("service '" + name + "' has no kind");
  if (a.kind == "kafka") {
    if (a.bootstrap.empty()) bad("kafka service '" + name + "' has no bootstrap list");
    return;
  }
  if (!a.unix_socket.empty() && a.port == 0) return;
  if (a.host.empty()) bad("service '" + name + "' has no host");
  if (a.port < 1 || a.port > 65535) {
    bad("service '" + name + "' has port " + std::to_string(a.port) +
        " (expected 1..65535, or a unix socket)");
  }
}

bool same_address(const ServiceAddress& a, const ServiceAddress& b) {
  return a.kind == b.kind && a.host == b.host && a.port == b.port &&
         a.unix_socket == b.unix_socket && a.bootstrap == b.bootstrap && a.user == b.user &&
         a.database == b.database && a.password == b.password;
}

void validate(const std::vector<ExportedService>& services, const ServiceExporterOptions& o) {
  auto bad = [](const std::string& what) { throw InputError({}, "service exporter: " + what); };
  if (services.empty()) bad("no services to export");
  if (o.check_timeout <= std::chrono::milliseconds(0)) bad("check_timeout must be positive");
  if (o.read_timeout <= std::chrono::milliseconds(0)) bad("read_timeout must be positive");
  if (o.read_timeout > o.check_timeout) {
    bad("read_timeout (" + std::to_string(o.read_timeout.count()) +
        " ms) is longer than check_timeout (" + std::to_string(o.check_timeout.count()) + " ms)");
  }
  if (o.host.empty()) bad("no listen host");
  std::set<std::string> names;
  for (const auto& s : services) {
    if (s.name.empty()) bad("a service has no name");
    if (!names.insert(s.name).second) bad("service '" + s.name + "' is listed twice");
    validate_address(s.name, s.address);
  }
}

// A service's current address. Shared with its /health check, which runs on a thread of its own
// that may outlive a request (and the exporter, if the service hangs).
class AddressSlot {
 public:
  explicit AddressSlot(ServiceAddress a) : address_(std::move(a)) {}
  ServiceAddress get() const {
    std::lock_guard lock(mu_);
    return address_;
  }
  bool set(const ServiceAddress& a) {
    std::lock_guard lock(mu_);
    if (same_address(address_, a)) return false;
    address_ = a;
    return true;
  }

 private:
  mutable std::mutex mu_;
  ServiceAddress address_;
};

}  // namespace

struct ServiceExporter::Impl {
  std::vector<std::string> names;  // in the order given
  std::map<std::string, std::shared_ptr<AddressSlot>> addresses;
  ServiceExporterOptions options;
  std::unique_ptr<EventLoop> loop;
  std::map<std::string, std::unique_ptr<HealthEndpoint>> endpoints;
  bool started = false;

  std::vector<MetricFamily> scrape(const std::string& name) const {
    const ExportedService s{name, addresses.at(name)->get()};
    const auto t0 = std::chrono::steady_clock::now();
    ServiceReading r = read_service(s.address, options.read_timeout);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::map<std::string, std::string> labels = {{"service", s.name},
                                                       {"kind", s.address.kind}};
    r.families.push_back({"faultline_exporter_up_ratio",
                          "1 when the service answered the exporter's last read, else 0",
                          "gauge",
                          {{labels, r.ok ? 1.0 : 0.0}}});
    r.families.push_back({"faultline_exporter_read_duration_seconds",
                          "How long the exporter's read of the service took",
                          "gauge",
                          {{labels, seconds}}});
    if (!r.ok)
      log::warn("exporter", "service read failed", {{"service", s.name}, {"detail", r.detail}});
    return std::move(r.families);
  }
};

ServiceExporter::ServiceExporter(std::vector<ExportedService> services,
                                 ServiceExporterOptions options)
    : impl_(std::make_unique<Impl>()) {
  validate(services, options);
  for (auto& s : services) {
    impl_->names.push_back(s.name);
    impl_->addresses[s.name] = std::make_shared<AddressSlot>(std::move(s.address));
  }
  impl_->options = std::move(options);
}

ServiceExporter::~ServiceExporter() {
  stop();
}

void ServiceExporter::start() {
  if (impl_->started) return;
  impl_->loop = std::make_unique<EventLoop>();
  Impl* impl = impl_.get();
  for (const auto& name : impl_->names) {
    const std::chrono::milliseconds read_timeout = impl_->options.read_timeout;
    // The check runs on a thread of its own that may outlive a /health request (and this
    // exporter, if the service hangs): it shares the address slot.
    DependencyCheck check{name, [slot = impl_->addresses.at(name), read_timeout] {
                            const ServiceReading r = read_service(slot->get(), read_timeout);
                            return CheckOutcome{r.ok, r.detail};
                          }};
    HealthEndpointOptions o;
    o.host = impl_->options.host;
    o.check_timeout = impl_->options.check_timeout;
    // /metrics runs on the exporter's loop thread, which stop() joins before the services go.
    auto endpoint = std::make_unique<HealthEndpoint>(
        *impl_->loop, name, std::vector<DependencyCheck>{std::move(check)},
        [impl, name] { return impl->scrape(name); }, o);
    endpoint->start();
    impl_->endpoints[name] = std::move(endpoint);
  }
  impl_->started = true;
  for (const auto& [name, url] : urls()) {
    log::info("exporter", "serving /health and /metrics", {{"service", name}, {"url", url}});
  }
}

void ServiceExporter::stop() {
  if (!impl_) return;
  for (auto& [name, endpoint] : impl_->endpoints) endpoint->stop();
  impl_->endpoints.clear();
  impl_->loop.reset();
  impl_->started = false;
}

std::map<std::string, std::string> ServiceExporter::urls() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, endpoint] : impl_->endpoints) {
    out[name] = "http://" + impl_->options.host + ":" + std::to_string(endpoint->port());
  }
  return out;
}

std::uint16_t ServiceExporter::port(const std::string& service) const {
  auto it = impl_->endpoints.find(service);
  if (it == impl_->endpoints.end()) {
    throw UsageError("the exporter serves no service '" + service + "'");
  }
  return it->second->port();
}

std::vector<ExportedService> ServiceExporter::services() const {
  std::vector<ExportedService> out;
  for (const auto& name : impl_->names) out.push_back({name, impl_->addresses.at(name)->get()});
  return out;
}

bool ServiceExporter::update_address(const std::string& service, const ServiceAddress& address) {
  const auto it = impl_->addresses.find(service);
  if (it == impl_->addresses.end()) {
    throw UsageError("the exporter serves no service '" + service + "'");
  }
  validate_address(service, address);
  if (!it->second->set(address)) return false;
  log::info("exporter", "service address changed",
            {{"service", service},
             {"host", address.host},
             {"port", address.port},
             {"unix_socket", address.unix_socket}});
  return true;
}

std::size_t ServiceExporter::log_sessions() const {
  std::size_t lines = 0;
  for (const auto& s : services()) {
    for (const auto& session : read_sessions(s.address, impl_->options.read_timeout)) {
      log::CorrelationScope scope(session.name);
      log::info(s.name, "client session",
                {{"kind", s.address.kind}, {"statement", session.statement}});
      ++lines;
    }
  }
  return lines;
}

}  // namespace faultline::ops
