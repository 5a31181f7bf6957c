// NetnsPartition: a real network partition between the host and a NetworkNamespace — iptables
// DROP rules inside the namespace on its veth end, so packets in both directions vanish without
// an answer (no RST, no ICMP): a peer's connect() hangs and an open connection goes silent, as
// across a partitioned network, where the proxy's partition toxic can only approximate it.
//
// cut() registers the heal action in the RunDirectory *before* inserting the rules: a shell line
// that deletes each rule until none is left inside the namespace and succeeds when the namespace
// is already gone. heal() runs the same deletion and forgets the action; the destructor heals. A
// SIGKILLed harness is healed by its watchdog or by `faultline reap` (and a namespace removed
// there takes its rules with it). The rules carry a comment naming this partition, so two
// partitions of one namespace never remove each other's rules.
//
// The rules live only inside the namespace: the host's own iptables are never touched.
//
// Thread safety: a NetnsPartition belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "chaos/netns/network_namespace.h"
#include "harness/core/run_dir.h"

namespace faultline::netns {

class NetnsPartition {
 public:
  // Not cut yet. `ns` must outlive the partition.
  NetnsPartition(RunDirectory& run, const NetworkNamespace& ns);
  ~NetnsPartition();  // heal(), reporting a failure on stderr
  NetnsPartition(const NetnsPartition&) = delete;
  NetnsPartition& operator=(const NetnsPartition&) = delete;

  // Drops every packet on the namespace's veth, both ways. No-op if already cut. Throws Error.
  void cut();
  // Removes the rules. Idempotent; throws Error if they cannot be removed (the heal action then
  // stays pending).
  void heal();
  bool is_cut() const { return heal_id_.has_value(); }

  // Aborts the host's TCP sockets connected (or connecting) to the namespace's address, as the
  // kernel does once its retransmissions give up (`ss -K`; needs CONFIG_INET_DIAG_DESTROY): each
  // owner sees ECONNABORTED at once instead of waiting out tcp_retries2 (about 15 minutes). The
  // namespace's own sockets are left alone. Returns how many were aborted; throws Error if `ss`
  // fails.
  std::size_t abort_host_connections() const;

  // Whether the rules are in the namespace's tables now, and how many packets they dropped.
  bool rules_present() const;
  std::uint64_t dropped_packets() const;

  const std::string& comment() const { return comment_; }

 private:
  std::string heal_command() const;

  RunDirectory& run_;
  const NetworkNamespace& ns_;
  std::string comment_;
  std::optional<std::uint64_t> heal_id_;
};

}  // namespace faultline::netns
