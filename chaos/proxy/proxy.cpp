#include "chaos/proxy/proxy.h"

#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "chaos/proxy/link.h"
#include "harness/core/log.h"

namespace faultline::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

std::pair<std::string, std::string> split_host_port(const std::string& address,
                                                    const std::string& what) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    throw ApiError(400, what + " '" + address + "' is not host:port");
  }
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  for (char c : port) {
    if (c < '0' || c > '9') throw ApiError(400, what + " '" + address + "' has a bad port");
  }
  if (port.size() > 5 || std::stoul(port) > 65535) {
    throw ApiError(400, what + " '" + address + "' has a bad port");
  }
  return {host, port};
}

namespace {

std::vector<tcp::endpoint> resolve(asio::io_context& io, const std::string& address,
                                   const std::string& what, bool empty_host_is_loopback) {
  auto [host, port] = split_host_port(address, what);
  if (host.empty()) {
    if (!empty_host_is_loopback) throw ApiError(400, what + " '" + address + "' has no host");
    host = "127.0.0.1";
  }
  tcp::resolver resolver(io);
  error_code ec;
  auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    throw ApiError(400, what + " '" + address + "' does not resolve: " + ec.message());
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& r : results) endpoints.push_back(r.endpoint());
  return endpoints;
}

// An upstream must be on loopback unless its host is allowed by name (ApiError 403 otherwise).
std::vector<tcp::endpoint> resolve_upstream(ProxyEnvironment& env, const std::string& address) {
  auto endpoints = resolve(env.loop.context(), address, "upstream", false);
  const std::string host = split_host_port(address, "upstream").first;
  if (env.allowed_remote_hosts.count(host)) return endpoints;
  for (const auto& ep : endpoints) {
    if (!ep.address().is_loopback()) {
      throw ApiError(403, "upstream '" + address + "' is not on loopback (" +
                              ep.address().to_string() +
                              "); faults stay on this machine unless the stack file allows the "
                              "host (an external service marked chaos-allowed)");
    }
  }
  return endpoints;
}

std::string endpoint_text(const tcp::endpoint& ep) {
  const std::string host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

}  // namespace

struct FaultProxy::Impl final : LinkOwner, std::enable_shared_from_this<Impl> {
  Impl(ProxyEnvironment& e, ProxyConfig c) : env(e), config(std::move(c)) {}

  ProxyEnvironment& env;
  ProxyConfig config;
  std::vector<tcp::endpoint> upstream;
  std::shared_ptr<tcp::acceptor> acceptor;
  std::map<std::uint64_t, std::shared_ptr<Link>> links;
  std::uint64_t next_link = 1;
  std::vector<ToxicSpec> toxics;
  std::map<std::string, std::uint64_t> rejected_by;  // reject_first toxic -> connections reset
  std::map<std::string, std::uint64_t> generation;   // toxic -> times updated (dice stream)
  ProxyCounters counters;
  bool taken_down = false;  // stopped after having run: starting again is a heal

  asio::io_context& io() { return env.loop.context(); }

  // LinkOwner
  void on_link_closed(std::uint64_t id) override {
    if (links.erase(id) != 0) ++counters.links_closed;
  }
  void count_bytes(StreamDirection d, std::size_t n) override {
    (d == StreamDirection::upstream ? counters.bytes_upstream : counters.bytes_downstream) += n;
  }
  Clock& clock() override { return env.clock; }
  ToxicChain::Dispatch dispatch() override { return env.dispatch; }

  void journal(const char* kind, const std::string& subject, nlohmann::json fields) {
    if (env.journal != nullptr) env.journal->append(kind, subject, std::move(fields));
  }

  // The framework's dice: does toxic `spec` act on link `link`?
  bool roll(const ToxicSpec& spec, std::uint64_t link) {
    const std::string stream = "proxy/" + config.name + "/toxic/" + spec.name + "/gen/" +
                               std::to_string(generation[spec.name]) + "/link/" +
                               std::to_string(link);
    Rng dice = env.rng.child(stream);
    const bool applied = dice.bernoulli(spec.toxicity);
    ++(applied ? counters.toxic_applied : counters.toxic_spared)[spec.name];
    journal(event_kind::kDecision, "proxy/" + config.name,
            {{"toxic", spec.name},
             {"type", spec.type},
             {"link", link},
             {"toxicity", spec.toxicity},
             {"applied", applied}});
    return applied;
  }

  Rng toxic_rng(const ToxicSpec& spec, std::uint64_t link) {
    return env.rng.child("proxy/" + config.name + "/toxic/" + spec.name + "/gen/" +
                         std::to_string(generation[spec.name]) + "/link/" + std::to_string(link) +
                         "/toxic");
  }

  // Puts `spec` into `link`'s chains (after the dice said so).
  void attach(Link& link, const ToxicSpec& spec) {
    const ToxicKind& kind = *find_toxic_kind(spec.type);
    if (kind.scope == ToxicScope::connection) return;
    Rng rng = toxic_rng(spec, link.id());
    if (kind.scope == ToxicScope::both_streams) {
      link.chain(StreamDirection::upstream).add(spec.name, kind, spec.attributes, rng.child("up"));
      link.chain(StreamDirection::downstream)
          .add(spec.name, kind, spec.attributes, rng.child("down"));
    } else {
      link.chain(spec.stream).add(spec.name, kind, spec.attributes, rng);
    }
  }

  void detach(Link& link, const std::string& name) {
    link.chain(StreamDirection::upstream).remove(name);
    link.chain(StreamDirection::downstream).remove(name);
  }

  // A connection-scoped toxic wants this connection reset.
  bool rejects(std::uint64_t link) {
    for (const ToxicSpec& spec : toxics) {
      if (find_toxic_kind(spec.type)->scope != ToxicScope::connection) continue;
      auto& done = rejected_by[spec.name];
      if (done >= static_cast<std::uint64_t>(spec.attributes.at("count"))) continue;
      if (!roll(spec, link)) continue;
      ++done;
      return true;
    }
    return false;
  }

  void accept_next(std::shared_ptr<tcp::acceptor> on) {
    on->async_accept([self = shared_from_this(), on](error_code ec, tcp::socket socket) {
      if (on != self->acceptor || !on->is_open()) return;  // stopped or restarted
      if (!ec) self->accepted(std::move(socket));
      self->accept_next(on);
    });
  }

  void accepted(tcp::socket socket) {
    ++counters.connections_accepted;
    const std::uint64_t id = next_link++;
    if (rejects(id)) {
      ++counters.connections_rejected;
      error_code ignored;
      socket.set_option(asio::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
      return;
    }
    auto link = std::make_shared<Link>(*this, id, std::move(socket));
    links[id] = link;
    link->connect(upstream, [self = shared_from_this()](Link& l) {
      for (const ToxicSpec& spec : self->toxics) {
        if (find_toxic_kind(spec.type)->scope == ToxicScope::connection) continue;
        if (self->roll(spec, l.id())) self->attach(l, spec);
      }
    });
  }

  std::shared_ptr<tcp::acceptor> bind(const std::string& listen) {
    const auto endpoints = resolve(io(), listen, "listen", true);
    auto a = std::make_shared<tcp::acceptor>(io());
    error_code ec;
    a->open(endpoints.front().protocol(), ec);
    if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a->bind(endpoints.front(), ec);
    if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      const int status = ec == asio::error::address_in_use ? 409 : 400;
      throw ApiError(status, "listen " + listen + ": " + ec.message());
    }
    return a;
  }

  void run(std::shared_ptr<tcp::acceptor> a, bool arm = true) {
    acceptor = std::move(a);
    config.listen = endpoint_text(acceptor->local_endpoint());
    config.enabled = true;
    if (arm) accept_next(acceptor);
    log::info("proxy", "listening",
              {{"proxy", config.name}, {"listen", config.listen}, {"upstream", config.upstream}});
  }

  void close_links() {
    auto all = links;  // closing erases from `links`
    for (auto& [id, link] : all) link->close(false);
    links.clear();
  }

  void halt() {
    if (acceptor) {
      error_code ignored;
      acceptor->close(ignored);
      acceptor.reset();
    }
    close_links();
    config.enabled = false;
  }
};

FaultProxy::FaultProxy(ProxyEnvironment& env, ProxyConfig config)
    : impl_(std::make_shared<Impl>(env, std::move(config))) {
  if (impl_->config.name.empty()) throw ApiError(400, "missing required field: name");
  if (impl_->config.upstream.empty()) throw ApiError(400, "missing required field: upstream");
  if (impl_->config.listen.empty()) impl_->config.listen = "127.0.0.1:0";
  split_host_port(impl_->config.listen, "listen");
  impl_->upstream = resolve_upstream(env, impl_->config.upstream);
  impl_->config.enabled = false;
}

FaultProxy::~FaultProxy() {
  impl_->halt();
}

const ProxyConfig& FaultProxy::config() const {
  return impl_->config;
}
std::size_t FaultProxy::active_links() const {
  return impl_->links.size();
}
const ProxyCounters& FaultProxy::counters() const {
  return impl_->counters;
}

void FaultProxy::start() {
  if (impl_->config.enabled) return;
  impl_->run(impl_->bind(impl_->config.listen));
  if (impl_->taken_down) {
    impl_->taken_down = false;
    impl_->journal(event_kind::kFaultHeal, "proxy/" + impl_->config.name, {{"fault", "down"}});
  }
}

void FaultProxy::stop() {
  if (!impl_->config.enabled) return;
  impl_->journal(event_kind::kFaultInject, "proxy/" + impl_->config.name, {{"fault", "down"}});
  impl_->taken_down = true;
  impl_->halt();
}

void FaultProxy::update(const ProxyConfig& next) {
  Impl& p = *impl_;
  const bool moved = next.listen != p.config.listen || next.upstream != p.config.upstream;
  std::vector<tcp::endpoint> upstream = p.upstream;
  if (next.upstream != p.config.upstream) {
    upstream = resolve_upstream(p.env, next.upstream);
  }
  if (!next.enabled) {
    split_host_port(next.listen, "listen");
    if (p.config.enabled) stop();
    p.config.listen = next.listen;
    p.config.upstream = next.upstream;
    p.upstream = upstream;
    return;
  }
  if (p.config.enabled && !moved) return;
  if (p.config.enabled && next.listen == p.config.listen) {
    // Same address: keep the listener (and its pending accept), drop the links to the old
    // upstream.
    p.close_links();
    p.config.upstream = next.upstream;
    p.upstream = upstream;
    return;
  }
  auto fresh = p.bind(next.listen);  // throws before anything changed
  if (p.config.enabled) p.halt();
  p.config.upstream = next.upstream;
  p.upstream = upstream;
  p.run(fresh);
}

const std::vector<ToxicSpec>& FaultProxy::toxics() const {
  return impl_->toxics;
}

const ToxicSpec* FaultProxy::find_toxic(const std::string& name) const {
  for (const ToxicSpec& t : impl_->toxics) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

void FaultProxy::add_toxic(const ToxicSpec& spec) {
  if (find_toxic(spec.name) != nullptr) throw ApiError(409, "toxic already exists");
  Impl& p = *impl_;
  p.toxics.push_back(spec);
  p.journal(event_kind::kFaultInject, "proxy/" + p.config.name + "/toxic/" + spec.name,
            spec.to_json());
  if (find_toxic_kind(spec.type)->scope == ToxicScope::connection) return;
  for (auto& [id, link] : p.links) {
    if (!link->ready() || !p.roll(spec, id)) continue;
    if (!link->chain(StreamDirection::upstream).has(spec.name)) p.attach(*link, spec);
  }
}

void FaultProxy::update_toxic(const ToxicSpec& spec) {
  Impl& p = *impl_;
  auto it = std::find_if(p.toxics.begin(), p.toxics.end(),
                         [&](const ToxicSpec& t) { return t.name == spec.name; });
  if (it == p.toxics.end()) throw ApiError(404, "toxic not found");
  *it = spec;
  ++p.generation[spec.name];
  p.journal(event_kind::kFaultInject, "proxy/" + p.config.name + "/toxic/" + spec.name,
            spec.to_json());
  const ToxicKind& kind = *find_toxic_kind(spec.type);
  if (kind.scope == ToxicScope::connection) return;
  for (auto& [id, link] : p.links) {
    if (!link->ready()) continue;
    const bool applied = p.roll(spec, id);
    const bool present = link->chain(StreamDirection::upstream).has(spec.name) ||
                         link->chain(StreamDirection::downstream).has(spec.name);
    if (!applied) {
      if (present) p.detach(*link, spec.name);
      continue;
    }
    if (!present) {
      p.attach(*link, spec);
      continue;
    }
    Rng rng = p.toxic_rng(spec, id);
    if (kind.scope == ToxicScope::both_streams) {
      link->chain(StreamDirection::upstream)
          .replace(spec.name, kind, spec.attributes, rng.child("up"));
      link->chain(StreamDirection::downstream)
          .replace(spec.name, kind, spec.attributes, rng.child("down"));
    } else {
      link->chain(spec.stream).replace(spec.name, kind, spec.attributes, rng);
    }
  }
}

void FaultProxy::remove_toxic(const std::string& toxic) {
  const std::string name = toxic;  // `toxic` may live in the vector we erase from
  Impl& p = *impl_;
  auto it = std::find_if(p.toxics.begin(), p.toxics.end(),
                         [&](const ToxicSpec& t) { return t.name == name; });
  if (it == p.toxics.end()) throw ApiError(404, "toxic not found");
  p.toxics.erase(it);
  p.rejected_by.erase(name);
  p.journal(event_kind::kFaultHeal, "proxy/" + p.config.name + "/toxic/" + name,
            nlohmann::json::object());
  for (auto& [id, link] : p.links) {
    if (link->ready()) p.detach(*link, name);
  }
}

void FaultProxy::remove_all_toxics() {
  while (!impl_->toxics.empty()) remove_toxic(impl_->toxics.front().name);
}

nlohmann::json FaultProxy::to_json() const {
  nlohmann::json toxics = nlohmann::json::array();
  for (const ToxicSpec& t : impl_->toxics) toxics.push_back(t.to_json());
  return {{"name", impl_->config.name},
          {"listen", impl_->config.listen},
          {"upstream", impl_->config.upstream},
          {"enabled", impl_->config.enabled},
          {"toxics", toxics}};
}

}  // namespace faultline::proxy
