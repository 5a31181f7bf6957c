// FaultProxy: one named TCP proxy — a listener on a local address, an upstream, the links it
// accepted, and its toxics — as Toxiproxy's `Proxy` is.
//
// Each accepted connection becomes a Link to the upstream. When a link starts, and when a toxic is
// added to a live proxy, the proxy rolls the toxic's `toxicity` dice for that link with an Rng
// child named after the proxy, the toxic and the link number (so a seed replays the same
// decisions), journals the decision when a Journal is attached, and puts the toxic in the link's
// chains if it won. Removing a toxic takes it out of every live link, releasing what it held.
// `enabled = false` is the proxy being down: the listener is closed (connections are refused) and
// the live links are closed. Toxics that act on connections (reject_first) are consulted before
// the upstream is dialled.
//
// Thread safety: none. A FaultProxy is created, used and destroyed on its EventLoop's thread
// (ProxyServer posts every call there).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/proxy/toxic_chain.h"
#include "chaos/proxy/toxic_kind.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "harness/core/rng.h"

namespace faultline::proxy {

struct ProxyConfig {
  std::string name;
  std::string listen;  // host:port; port 0 picks one, reported back once listening
  std::string upstream;
  bool enabled = true;
};

struct ProxyCounters {
  std::uint64_t bytes_upstream = 0;    // client -> server, read by the proxy
  std::uint64_t bytes_downstream = 0;  // server -> client
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // by reject_first
  std::uint64_t links_closed = 0;
  std::map<std::string, std::uint64_t> toxic_applied;  // toxic name -> links it acted on
  std::map<std::string, std::uint64_t> toxic_spared;   // toxic name -> links the dice spared
};

// What every proxy of a server shares.
struct ProxyEnvironment {
  EventLoop& loop;
  Clock& clock;
  Rng rng;
  Journal* journal = nullptr;
  // Runs a toxic's timer callback on the loop thread (see ProxyServer for why it is gated).
  ToxicChain::Dispatch dispatch;
  // Upstream hosts off loopback that proxies may reach (as named, before resolution). Empty: an
  // upstream must resolve to loopback only (127.0.0.0/8, ::1) — faults stay on this machine unless
  // a stack file allows a host (an external service marked chaos-allowed).
  std::set<std::string> allowed_remote_hosts;
};

// "host:port" -> (host, port); throws ApiError(400) naming `what` if it is not one.
std::pair<std::string, std::string> split_host_port(const std::string& address,
                                                    const std::string& what);

class FaultProxy {
 public:
  // Checks the addresses (ApiError 400); does not listen yet.
  FaultProxy(ProxyEnvironment& env, ProxyConfig config);
  ~FaultProxy();  // stop()
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  const ProxyConfig& config() const;
  std::size_t active_links() const;
  const ProxyCounters& counters() const;

  // Listens (enabled = true). ApiError 409 if the address is in use, 400 if it is not local.
  void start();
  // Closes the listener and every link (enabled = false).
  void stop();
  // Toxiproxy's update: new listen/upstream restart the proxy, `enabled` starts or stops it. The
  // new listener is bound before anything changes, so a failed update changes nothing.
  void update(const ProxyConfig& next);

  const std::vector<ToxicSpec>& toxics() const;
  const ToxicSpec* find_toxic(const std::string& name) const;
  void add_toxic(const ToxicSpec& spec);       // ApiError 409 if the name is taken
  void update_toxic(const ToxicSpec& spec);    // ApiError 404 if there is none
  void remove_toxic(const std::string& name);  // ApiError 404 if there is none
  void remove_all_toxics();

  // {"name","listen","upstream","enabled","toxics":[...]}
  nlohmann::json to_json() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace faultline::proxy
