// NetworkNamespace: a private network namespace joined to the host by a veth pair, for putting a
// real service (a local redis-server, say) behind a link that netns_partition.h can cut.
//
// Construction registers a heal action in the RunDirectory *before* anything is made — a shell
// line running `ip netns del <name>` and `ip link del <host veth>`, each ignoring "not there" —
// then makes the namespace, the veth pair (one end moved into the namespace), a private /30 in
// 10.213.0.0/16 (host end .1, namespace end .2 of the block), and brings the links and the
// namespace's loopback up. So a harness killed with SIGKILL at any point has the namespace and
// the veth removed by its watchdog or by `faultline reap`. destroy() (and the destructor) remove
// both and forget the heal action. Traffic goes only between the host and this namespace: the
// namespace has no route anywhere else.
//
// Programs run inside through `ip netns exec <name> <argv...>` (exec_argv), which execs the
// program in place, so the pid a Supervisor records is the program's own. Stop them before
// destroy(): a namespace lives on, unnamed, while a process is still in it.
//
// Needs root, `ip` (iproute2) and iptables working inside a namespace; unavailable() says why not.
//
// Thread safety: a NetworkNamespace belongs to one thread; the accessors are const.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/run_dir.h"

namespace faultline::netns {

// Why namespaces and iptables inside them cannot be used here (not root, no `ip` or `ss`, no
// iptables, or a probe namespace cannot be made or filtered), or nullopt. Makes and removes a
// probe namespace, registered in `run` while it exists.
std::optional<std::string> unavailable(RunDirectory& run);

// The absolute path of a system tool (PATH, then /usr/sbin and /sbin), or `name` if not found.
std::string tool_path(const std::string& name);

// Runs argv to completion (bounded); throws Error naming the command if it fails.
void run_checked(const std::vector<std::string>& argv);

class NetworkNamespace {
 public:
  // Throws Error (with nothing left behind) if the namespace cannot be made.
  explicit NetworkNamespace(RunDirectory& run);
  ~NetworkNamespace();  // destroy(), reporting a failure on stderr
  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;

  const std::string& name() const { return name_; }
  const std::string& host_interface() const { return host_if_; }
  const std::string& namespace_interface() const { return ns_if_; }
  const std::string& host_address() const { return host_addr_; }  // dotted quad, no prefix
  const std::string& namespace_address() const { return ns_addr_; }
  bool exists() const;  // `ip netns` lists it

  // {"ip", "netns", "exec", name, argv...}
  std::vector<std::string> exec_argv(const std::vector<std::string>& argv) const;

  // Removes the namespace and the veth pair and forgets the heal action. Idempotent; throws Error
  // if removal fails (the heal action then stays for the watchdog or the reaper).
  void destroy();

 private:
  RunDirectory& run_;
  std::string name_;
  std::string host_if_;
  std::string ns_if_;
  std::string host_addr_;
  std::string ns_addr_;
  std::uint64_t heal_id_ = 0;
  bool destroyed_ = false;
};

}  // namespace faultline::netns
