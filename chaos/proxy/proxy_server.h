// ProxyServer: the set of named fault proxies of one process, as Toxiproxy's server holds them,
// and the C++ API that suites and scenarios use in-process.
//
// Two faces over the same state. The JSON face (`create_proxy`, `add_toxic`, `populate`, ...)
// takes and returns Toxiproxy 2.x request and response bodies and throws ApiError with
// Toxiproxy's status and message; the HTTP API (http_api.h) is a thin layer over it. The typed
// face (`add_proxy`, `add_toxic(proxy, spec)`) returns RAII handles: a ToxicHandle removes its
// toxic when destroyed, a ProxyHandle removes its proxy; both heal on every exit path of the
// scope that holds them. A rejected request changes nothing.
//
// Heal actions in a RunDirectory: when one is given, every toxic added through the typed face and
// every proxy taken down registers a heal action before it is applied, and forgets it when healed.
// What that action can do is limited, honestly: the fault lives in this process's sockets, so if
// the harness dies the kernel closes the proxy's listeners and links and the fault ends with it —
// there is nothing left for the watchdog to undo. The recorded action is therefore `true`, and
// its value is the record: the run directory names every fault that was active when the harness
// died, and `faultline reap` reports them.
//
// Every decision (the toxicity dice per link and toxic) is journaled when a Journal is given, as
// are toxics added and removed and proxies taken down and brought back.
//
// Thread safety: every member may be called from any thread, except the loop thread while the
// loop is blocked on that very call; calls are posted to the EventLoop and awaited. Handles may be
// destroyed on any thread but must not outlive the server.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chaos/proxy/proxy.h"
#include "harness/core/run_dir.h"

namespace faultline::proxy {

class ProxyServer;

// Removes its toxic when destroyed (or on heal()).
class ToxicHandle {
 public:
  ToxicHandle() = default;
  ToxicHandle(ToxicHandle&& other) noexcept;
  ToxicHandle& operator=(ToxicHandle&& other) noexcept;
  ~ToxicHandle();

  const std::string& proxy() const { return proxy_; }
  const std::string& name() const { return name_; }
  bool active() const { return server_ != nullptr; }
  // Removes the toxic now. Idempotent; a toxic already removed otherwise is fine.
  void heal();

 private:
  friend class ProxyServer;
  ToxicHandle(ProxyServer* s, std::string proxy, std::string name, std::optional<std::uint64_t> h)
      : server_(s), proxy_(std::move(proxy)), name_(std::move(name)), heal_id_(h) {}
  ProxyServer* server_ = nullptr;
  std::string proxy_;
  std::string name_;
  std::optional<std::uint64_t> heal_id_;
};

// Deletes its proxy when destroyed.
class ProxyHandle {
 public:
  ProxyHandle() = default;
  ProxyHandle(ProxyHandle&& other) noexcept;
  ProxyHandle& operator=(ProxyHandle&& other) noexcept;
  ~ProxyHandle();

  const std::string& name() const { return name_; }
  // The address clients connect to (the port chosen when the config said 0).
  const std::string& listen() const { return listen_; }
  std::uint16_t port() const;
  void remove();

 private:
  friend class ProxyServer;
  ProxyHandle(ProxyServer* s, std::string name, std::string listen)
      : server_(s), name_(std::move(name)), listen_(std::move(listen)) {}
  ProxyServer* server_ = nullptr;
  std::string name_;
  std::string listen_;
};

class ProxyServer {
 public:
  // `clock` times the toxics; `rng` is the parent of every dice and jitter stream; `journal` and
  // `run` are optional and must outlive the server.
  ProxyServer(EventLoop& loop, Clock& clock, Rng rng, Journal* journal = nullptr,
              RunDirectory* run = nullptr);
  ~ProxyServer();  // stops every proxy on the loop thread
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  EventLoop& loop() { return loop_; }
  // Lets proxies reach `host` (as upstreams name it) although it is not on loopback: only for
  // hosts a stack file allows (see ProxyEnvironment). Proxies to other hosts are refused (403).
  void allow_remote_host(const std::string& host);

  // --- Toxiproxy's JSON face (bodies and results as in its HTTP API) ---
  nlohmann::json list_proxies();                            // {name: proxy}
  nlohmann::json create_proxy(const nlohmann::json& body);  // 201 body
  nlohmann::json get_proxy(const std::string& name);
  nlohmann::json update_proxy(const std::string& name, const nlohmann::json& body);
  void delete_proxy(const std::string& name);
  nlohmann::json list_toxics(const std::string& proxy);
  nlohmann::json create_toxic(const std::string& proxy, const nlohmann::json& body);
  nlohmann::json get_toxic(const std::string& proxy, const std::string& toxic);
  nlohmann::json update_toxic(const std::string& proxy, const std::string& toxic,
                              const nlohmann::json& body);
  void delete_toxic(const std::string& proxy, const std::string& toxic);
  // Creates or replaces the proxies of `body` (an array); all or nothing. Returns the array.
  nlohmann::json populate(const nlohmann::json& body);
  // Enables every proxy and removes every toxic.
  void reset();
  // Prometheus text exposition of the counters.
  std::string metrics_text();

  // --- The typed face ---
  ProxyHandle add_proxy(const ProxyConfig& config);
  ToxicHandle add_toxic(const std::string& proxy, const ToxicSpec& spec);
  // Takes the proxy down (enabled = false) until the handle heals it.
  ToxicHandle take_down(const std::string& proxy);
  ProxyCounters counters(const std::string& proxy);

 private:
  friend class ToxicHandle;
  friend class ProxyHandle;
  struct State;
  void heal_toxic(const std::string& proxy, const std::string& name,
                  std::optional<std::uint64_t> heal_id);

  EventLoop& loop_;
  RunDirectory* run_;
  std::unique_ptr<State> state_;
};

}  // namespace faultline::proxy
