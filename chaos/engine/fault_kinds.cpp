// The fault kinds (fault_kind.h). Each is a few lines over the proxy, a hook or the engine.
#include <optional>

#include "chaos/engine/environment.h"
#include "chaos/engine/fault_kind.h"
#include "chaos/proxy/proxy_server.h"
#include "harness/backends/hooks.h"
#include "harness/clients/postgres/connection_pool.h"

namespace faultline::chaos {

FaultKind broker_down_fault_kind();      // kafka_faults.cpp
FaultKind corrupt_backup_fault_kind();   // backup_faults.cpp
FaultKind netns_partition_fault_kind();  // netns_fault.cpp

namespace {

class ToxicFault final : public ActiveFault {
 public:
  explicit ToxicFault(std::vector<proxy::ToxicHandle> handles) : handles_(std::move(handles)) {}
  void heal() override {
    for (auto& h : handles_) h.heal();
  }

 private:
  std::vector<proxy::ToxicHandle> handles_;
};

class HookActiveFault final : public ActiveFault {
 public:
  explicit HookActiveFault(std::unique_ptr<stack::HookFault> f) : fault_(std::move(f)) {}
  ~HookActiveFault() override { heal(); }
  void heal() override {
    if (fault_) fault_->heal();
    fault_.reset();
  }

 private:
  std::unique_ptr<stack::HookFault> fault_;
};

// Holds connections of the application's pool until healed: the clients that exhaust it.
class HeldConnections final : public ActiveFault {
 public:
  explicit HeldConnections(std::vector<clients::PooledConnection> held) : held_(std::move(held)) {}
  void heal() override { held_.clear(); }

 private:
  std::vector<clients::PooledConnection> held_;
};

class NoHeal final : public ActiveFault {
 public:
  void heal() override {}
};

std::unique_ptr<ActiveFault> toxic(Environment& env, const std::string& target,
                                   const std::string& type, proxy::Attributes attributes,
                                   bool both_directions) {
  std::vector<proxy::ToxicHandle> handles;
  const std::string proxy = env.proxy_name(target);
  for (auto stream : {proxy::StreamDirection::downstream, proxy::StreamDirection::upstream}) {
    proxy::ToxicSpec spec;
    spec.type = type;
    spec.stream = stream;
    spec.name = "chaos-" + type + (stream == proxy::StreamDirection::upstream ? "-up" : "-down");
    spec.attributes = attributes;
    handles.push_back(env.proxies().add_toxic(proxy, spec));
    if (!both_directions) break;
  }
  return std::make_unique<ToxicFault>(std::move(handles));
}

std::unique_ptr<ActiveFault> hook(Environment& env, const std::string& target, const char* name,
                                  const nlohmann::json& args) {
  auto* h = env.handle(target);
  if (!h) throw Error("service '" + target + "' is not running");
  return std::make_unique<HookActiveFault>(h->apply_hook(name, args));
}

FaultKind hook_kind(std::string name, const char* hook_name, std::string summary,
                    std::vector<std::string> params) {
  FaultKind k{std::move(name), "hook", std::move(summary), std::move(params), false, hook_name, {}};
  k.inject = [hook_name](Environment& env, const std::string& target, const nlohmann::json& p) {
    return hook(env, target, hook_name, p);
  };
  return k;
}

std::vector<FaultKind> make_kinds() {
  namespace hk = backends::hook;
  std::vector<FaultKind> kinds;
  kinds.push_back(
      {"partition",
       "proxy",
       "the link to the target goes silent both ways; connections close after "
       "timeout_ms (0: held until healed)",
       {"timeout_ms"},
       false,
       "",
       [](Environment& env, const std::string& t, const nlohmann::json& p) {
         return toxic(env, t, "timeout", {{"timeout", p.value("timeout_ms", 3000)}}, true);
       }});
  kinds.push_back({"latency",
                   "proxy",
                   "every reply from the target is delayed by ms (+/- jitter_ms)",
                   {"ms", "jitter_ms"},
                   false,
                   "",
                   [](Environment& env, const std::string& t, const nlohmann::json& p) {
                     return toxic(
                         env, t, "latency",
                         {{"latency", p.value("ms", 500)}, {"jitter", p.value("jitter_ms", 0)}},
                         false);
                   }});
  kinds.push_back(
      {"reset",
       "proxy",
       "connections to the target are reset (RST) after timeout_ms",
       {"timeout_ms"},
       false,
       "",
       [](Environment& env, const std::string& t, const nlohmann::json& p) {
         return toxic(env, t, "reset_peer", {{"timeout", p.value("timeout_ms", 0)}}, false);
       }});
  kinds.push_back({"bandwidth",
                   "proxy",
                   "replies from the target limited to kb_per_s",
                   {"kb_per_s"},
                   false,
                   "",
                   [](Environment& env, const std::string& t, const nlohmann::json& p) {
                     return toxic(env, t, "bandwidth", {{"rate", p.value("kb_per_s", 10)}}, false);
                   }});
  kinds.push_back(hook_kind("crash", hk::kCrash, "the service crashes (restart policy recovers it)",
                            {"exit_code"}));
  kinds.push_back(
      hook_kind("kill", hk::kKill, "the service is killed (kill -9 on local)", {"exit_code"}));
  kinds.push_back(
      hook_kind("refuse-connections", hk::kRefuseConnections, "new connections are refused", {}));
  kinds.push_back(
      hook_kind("pause", hk::kPause, "the service stops answering (SIGSTOP on local)", {}));
  kinds.push_back(hook_kind("oom", hk::kOom, "redis answers -OOM to writes", {}));
  kinds.push_back(hook_kind("admin-shutdown", hk::kAdminShutdown,
                            "postgres terminates every session (57P01)", {"refuse_ms"}));
  kinds.push_back(hook_kind("slow-queries", hk::kLatency,
                            "the service itself waits ms before each request",
                            {"ms", "pattern", "command"}));
  kinds.push_back(hook_kind("read-only", hk::kReadOnly, "writes are refused", {}));
  kinds.push_back(hook_kind("max-connections", hk::kMaxConnections,
                            "sessions beyond limit are refused (53300)", {"limit"}));
  kinds.push_back(hook_kind("container-crash", hk::kContainerCrash,
                            "docker: the named container's process exits once",
                            {"container", "exit_code"}));
  kinds.push_back(hook_kind("crash-loop", hk::kCrashLoop,
                            "docker: the named container exits within every_ms of each start, "
                            "until healed",
                            {"container", "exit_code", "every_ms"}));
  kinds.push_back(hook_kind("gpu-xid", hk::kXid,
                            "gpu: device reports Xid code (79: fell off the bus, 48: double-bit "
                            "ECC); heal is the GPU reset",
                            {"device", "code"}));
  kinds.push_back(hook_kind("gpu-thermal", hk::kThermal,
                            "gpu: device throttles at its slowdown temperature", {"device"}));
  kinds.push_back({"hold-connections",
                   "engine",
                   "clients take every connection of the application's pool (or count of them) "
                   "and hold them until healed",
                   {"count"},
                   false,
                   "",
                   [](Environment& env, const std::string&, const nlohmann::json& p) {
                     auto* pool = env.existing_pool();
                     if (!pool) throw Error("hold-connections needs a workload that uses the pool");
                     const int count = p.value("count", pool->stats().max_connections);
                     std::vector<clients::PooledConnection> held;
                     for (int i = 0; i < count; ++i) {
                       std::optional<clients::PooledConnection> c;
                       env.driver().run([&] { c.emplace(pool->acquire()); });
                       held.push_back(std::move(*c));
                     }
                     return std::unique_ptr<ActiveFault>(new HeldConnections(std::move(held)));
                   }});
  kinds.push_back({"clock-skew",
                   "engine",
                   "simulated time jumps forward by ms at once (timers due in between fire)",
                   {"ms"},
                   true,
                   "",
                   [](Environment& env, const std::string&, const nlohmann::json& p) {
                     auto* manual = env.manual_clock();
                     if (!manual)
                       throw Error("clock-skew needs the simulated clock (fake backend)");
                     manual->advance(std::chrono::milliseconds(p.value("ms", 60'000)));
                     return std::unique_ptr<ActiveFault>(new NoHeal());
                   }});
  kinds.push_back(broker_down_fault_kind());
  kinds.push_back(corrupt_backup_fault_kind());
  kinds.push_back(netns_partition_fault_kind());
  return kinds;
}

const std::vector<FaultKind>& kinds() {
  static const std::vector<FaultKind> k = make_kinds();
  return k;
}

}  // namespace

const FaultKind* find_fault_kind(const std::string& name) {
  for (const auto& k : kinds())
    if (k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> fault_kind_names() {
  std::vector<std::string> out;
  for (const auto& k : kinds()) out.push_back(k.name);
  return out;
}

}  // namespace faultline::chaos
