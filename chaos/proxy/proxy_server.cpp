#include "chaos/proxy/proxy_server.h"

#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "harness/core/log.h"
#include "harness/ops/exposition.h"

namespace faultline::proxy {
namespace {

// The pseudo-toxic name a take_down() handle heals.
const std::string kDown = "(down)";

ApiError bad_body(const std::string& why) {
  return ApiError(400, "bad request body: " + why);
}

std::string string_field(const nlohmann::json& body, const char* key, std::string fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw bad_body(std::string(key) + " must be a string");
  return it->get<std::string>();
}

bool bool_field(const nlohmann::json& body, const char* key, bool fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw bad_body(std::string(key) + " must be true or false");
  return it->get<bool>();
}

// Lets RealClock's thread hand toxic timers to the loop, and stops it doing so once the server is
// gone (a timer popped just before it was cancelled may still arrive).
struct DispatchGate {
  std::mutex mu;
  EventLoop* loop = nullptr;
};

}  // namespace

struct ProxyServer::State {
  State(EventLoop& loop, Clock& clock, Rng rng, Journal* journal)
      : gate(std::make_shared<DispatchGate>()), env{loop, clock, rng, journal, {}, {}} {
    gate->loop = &loop;
    env.dispatch = [gate = gate](std::function<void()> fn) {
      std::lock_guard lock(gate->mu);
      if (gate->loop != nullptr) gate->loop->post(std::move(fn));
    };
  }

  std::shared_ptr<DispatchGate> gate;
  ProxyEnvironment env;
  std::map<std::string, std::unique_ptr<FaultProxy>> proxies;

  FaultProxy& get(const std::string& name) {
    auto it = proxies.find(name);
    if (it == proxies.end()) throw ApiError(404, "proxy not found: " + name);
    return *it->second;
  }

  ProxyConfig parse_proxy(const nlohmann::json& body) {
    if (!body.is_object()) throw bad_body("expected a JSON object");
    ProxyConfig c;
    c.name = string_field(body, "name", "");
    c.listen = string_field(body, "listen", "");
    c.upstream = string_field(body, "upstream", "");
    c.enabled = bool_field(body, "enabled", true);
    return c;
  }

  std::unique_ptr<FaultProxy> make(const ProxyConfig& c) {
    auto proxy = std::make_unique<FaultProxy>(env, c);
    if (c.enabled) proxy->start();
    return proxy;
  }
};

ProxyServer::ProxyServer(EventLoop& loop, Clock& clock, Rng rng, Journal* journal,
                         RunDirectory* run)
    : loop_(loop), run_(run), state_(std::make_unique<State>(loop, clock, rng, journal)) {}

void ProxyServer::allow_remote_host(const std::string& host) {
  loop_.post_and_wait([&] { state_->env.allowed_remote_hosts.insert(host); });
}

ProxyServer::~ProxyServer() {
  try {
    loop_.post_and_wait([this] { state_->proxies.clear(); });
  } catch (const std::exception&) {
    state_->proxies.clear();  // the loop is stopped: nothing runs concurrently any more
  }
  std::lock_guard lock(state_->gate->mu);
  state_->gate->loop = nullptr;
}

nlohmann::json ProxyServer::list_proxies() {
  return loop_.post_and_wait([this] {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [name, proxy] : state_->proxies) out[name] = proxy->to_json();
    return out;
  });
}

nlohmann::json ProxyServer::create_proxy(const nlohmann::json& body) {
  return loop_.post_and_wait([&] {
    ProxyConfig c = state_->parse_proxy(body);
    if (c.name.empty()) throw ApiError(400, "missing required field: name");
    if (c.upstream.empty()) throw ApiError(400, "missing required field: upstream");
    if (state_->proxies.count(c.name) != 0) {
      throw ApiError(409, "proxy already exists: " + c.name);
    }
    auto proxy = state_->make(c);
    nlohmann::json out = proxy->to_json();
    state_->proxies[c.name] = std::move(proxy);
    return out;
  });
}

nlohmann::json ProxyServer::get_proxy(const std::string& name) {
  return loop_.post_and_wait([&] { return state_->get(name).to_json(); });
}

nlohmann::json ProxyServer::update_proxy(const std::string& name, const nlohmann::json& body) {
  return loop_.post_and_wait([&] {
    FaultProxy& proxy = state_->get(name);
    if (!body.is_object()) throw bad_body("expected a JSON object");
    ProxyConfig next = proxy.config();
    next.listen = string_field(body, "listen", next.listen);
    next.upstream = string_field(body, "upstream", next.upstream);
    next.enabled = bool_field(body, "enabled", next.enabled);
    proxy.update(next);
    return proxy.to_json();
  });
}

void ProxyServer::delete_proxy(const std::string& name) {
  loop_.post_and_wait([&] {
    state_->get(name);
    state_->proxies.erase(name);
  });
}

nlohmann::json ProxyServer::list_toxics(const std::string& proxy) {
  return loop_.post_and_wait([&] { return state_->get(proxy).to_json()["toxics"]; });
}

nlohmann::json ProxyServer::create_toxic(const std::string& proxy, const nlohmann::json& body) {
  return loop_.post_and_wait([&] {
    FaultProxy& p = state_->get(proxy);
    ToxicSpec spec = ToxicSpec::from_json(body);
    p.add_toxic(spec);
    return spec.to_json();
  });
}

nlohmann::json ProxyServer::get_toxic(const std::string& proxy, const std::string& toxic) {
  return loop_.post_and_wait([&] {
    const ToxicSpec* spec = state_->get(proxy).find_toxic(toxic);
    if (spec == nullptr) throw ApiError(404, "toxic not found");
    return spec->to_json();
  });
}

nlohmann::json ProxyServer::update_toxic(const std::string& proxy, const std::string& toxic,
                                         const nlohmann::json& body) {
  return loop_.post_and_wait([&] {
    FaultProxy& p = state_->get(proxy);
    const ToxicSpec* spec = p.find_toxic(toxic);
    if (spec == nullptr) throw ApiError(404, "toxic not found");
    ToxicSpec next = spec->updated(body);
    p.update_toxic(next);
    return next.to_json();
  });
}

void ProxyServer::delete_toxic(const std::string& proxy, const std::string& toxic) {
  loop_.post_and_wait([&] { state_->get(proxy).remove_toxic(toxic); });
}

nlohmann::json ProxyServer::populate(const nlohmann::json& body) {
  return loop_.post_and_wait([&] {
    if (!body.is_array()) throw bad_body("expected a JSON array of proxies");
    // Phase 1: check everything, build nothing that listens.
    std::vector<ProxyConfig> configs;
    std::set<std::string> names;
    for (std::size_t i = 0; i < body.size(); ++i) {
      ProxyConfig c = state_->parse_proxy(body[i]);
      const std::string at = " at proxy " + std::to_string(i + 1);
      if (c.name.empty()) throw ApiError(400, "missing required field: name" + at);
      if (c.upstream.empty()) throw ApiError(400, "missing required field: upstream" + at);
      if (!names.insert(c.name).second) {
        throw ApiError(400, "duplicate proxy name \"" + c.name + "\"" + at);
      }
      FaultProxy check(state_->env, c);  // resolves the addresses, does not listen
      configs.push_back(c);
    }
    // Phase 2: new proxies first (all or nothing), then replacements and changes of `enabled`.
    std::map<std::string, std::unique_ptr<FaultProxy>> fresh;
    for (const ProxyConfig& c : configs) {
      auto it = state_->proxies.find(c.name);
      if (it == state_->proxies.end()) fresh[c.name] = state_->make(c);  // throws: none added
    }
    nlohmann::json out = nlohmann::json::array();
    for (const ProxyConfig& c : configs) {
      if (auto f = fresh.find(c.name); f != fresh.end()) {
        state_->proxies[c.name] = std::move(f->second);
      } else {
        FaultProxy& existing = *state_->proxies[c.name];
        const ProxyConfig& now = existing.config();
        const bool same =
            now.upstream == c.upstream && (now.listen == c.listen || c.listen.empty());
        if (same) {
          ProxyConfig next = now;
          next.enabled = c.enabled;
          existing.update(next);
        } else {
          state_->proxies.erase(c.name);  // a replacement on the same address needs it free
          state_->proxies[c.name] = state_->make(c);
        }
      }
      out.push_back(state_->proxies[c.name]->to_json());
    }
    return out;
  });
}

void ProxyServer::reset() {
  loop_.post_and_wait([&] {
    for (auto& [name, proxy] : state_->proxies) {
      proxy->start();
      proxy->remove_all_toxics();
    }
  });
}

std::string ProxyServer::metrics_text() {
  return loop_.post_and_wait([&] {
    std::vector<ops::MetricFamily> families;
    // One family; `fill(name, proxy, family)` adds that proxy's samples.
    auto family = [&](const char* name, const char* type, const char* help, auto&& fill) {
      ops::MetricFamily f{name, help, type, {}};
      for (auto& [proxy_name, proxy] : state_->proxies) fill(proxy_name, *proxy, f.samples);
      families.push_back(std::move(f));
    };
    using Samples = std::vector<ops::Sample>;
    auto one = [](const std::string& proxy, double value) {
      return ops::Sample{{{"proxy", proxy}}, value};
    };
    family("faultline_proxy_bytes_total", "counter", "Bytes read by the proxy, by stream.",
           [&](const std::string& n, FaultProxy& p, Samples& out) {
             out.push_back({{{"proxy", n}, {"stream", "upstream"}},
                            static_cast<double>(p.counters().bytes_upstream)});
             out.push_back({{{"proxy", n}, {"stream", "downstream"}},
                            static_cast<double>(p.counters().bytes_downstream)});
           });
    family("faultline_proxy_connections_total", "counter", "Connections accepted.",
           [&](const std::string& n, FaultProxy& p, Samples& out) {
             out.push_back(one(n, static_cast<double>(p.counters().connections_accepted)));
           });
    family("faultline_proxy_connections_rejected_total", "counter",
           "Connections reset by reject_first.",
           [&](const std::string& n, FaultProxy& p, Samples& out) {
             out.push_back(one(n, static_cast<double>(p.counters().connections_rejected)));
           });
    family("faultline_proxy_connections_active", "gauge", "Links open now.",
           [&](const std::string& n, FaultProxy& p, Samples& out) {
             out.push_back(one(n, static_cast<double>(p.active_links())));
           });
    family("faultline_proxy_enabled", "gauge", "1 if the proxy is listening, 0 if down.",
           [&](const std::string& n, FaultProxy& p, Samples& out) {
             out.push_back(one(n, p.config().enabled ? 1 : 0));
           });
    family("faultline_proxy_toxics", "gauge", "Toxics configured on the proxy.",
           [&](const std::string& n, FaultProxy& p, Samples& out) {
             out.push_back(one(n, static_cast<double>(p.toxics().size())));
           });
    family("faultline_proxy_toxic_applied_total", "counter",
           "Links a toxic acted on (its toxicity dice said yes).",
           [&](const std::string& n, FaultProxy& p, Samples& out) {
             for (const auto& [toxic, count] : p.counters().toxic_applied) {
               out.push_back({{{"proxy", n}, {"toxic", toxic}}, static_cast<double>(count)});
             }
           });
    family("faultline_proxy_toxic_spared_total", "counter",
           "Links a toxic spared (its toxicity dice said no).",
           [&](const std::string& n, FaultProxy& p, Samples& out) {
             for (const auto& [toxic, count] : p.counters().toxic_spared) {
               out.push_back({{{"proxy", n}, {"toxic", toxic}}, static_cast<double>(count)});
             }
           });
    return ops::to_prometheus_text(families);
  });
}

ProxyHandle ProxyServer::add_proxy(const ProxyConfig& config) {
  nlohmann::json body = {{"name", config.name},
                         {"listen", config.listen},
                         {"upstream", config.upstream},
                         {"enabled", config.enabled}};
  nlohmann::json created = create_proxy(body);
  return ProxyHandle(this, config.name, created["listen"].get<std::string>());
}

ToxicHandle ProxyServer::add_toxic(const std::string& proxy, const ToxicSpec& spec) {
  // Validate as the API would, so a typed caller gets the same errors.
  nlohmann::json body = spec.to_json();
  ToxicSpec checked = ToxicSpec::from_json(body);
  std::optional<std::uint64_t> heal_id;
  if (run_ != nullptr) {
    heal_id = run_->add_heal_action("proxy " + proxy + ": remove toxic " + checked.name + " (" +
                                        checked.type +
                                        "); in-process, so it ends with the harness process",
                                    {"true"});
  }
  try {
    loop_.post_and_wait([&] { state_->get(proxy).add_toxic(checked); });
  } catch (...) {
    if (heal_id) run_->heal_done(*heal_id);
    throw;
  }
  return ToxicHandle(this, proxy, checked.name, heal_id);
}

ToxicHandle ProxyServer::take_down(const std::string& proxy) {
  std::optional<std::uint64_t> heal_id;
  if (run_ != nullptr) {
    heal_id = run_->add_heal_action(
        "proxy " + proxy + ": bring back up; in-process, so it ends with the harness process",
        {"true"});
  }
  try {
    loop_.post_and_wait([&] { state_->get(proxy).stop(); });
  } catch (...) {
    if (heal_id) run_->heal_done(*heal_id);
    throw;
  }
  return ToxicHandle(this, proxy, kDown, heal_id);
}

ProxyCounters ProxyServer::counters(const std::string& proxy) {
  return loop_.post_and_wait([&] { return state_->get(proxy).counters(); });
}

void ProxyServer::heal_toxic(const std::string& proxy, const std::string& name,
                             std::optional<std::uint64_t> heal_id) {
  loop_.post_and_wait([&] {
    auto it = state_->proxies.find(proxy);
    if (it == state_->proxies.end()) return;  // deleted: nothing left to heal
    if (name == kDown) {
      it->second->start();
    } else if (it->second->find_toxic(name) != nullptr) {
      it->second->remove_toxic(name);
    }
  });
  if (heal_id && run_ != nullptr) run_->heal_done(*heal_id);
}

}  // namespace faultline::proxy
