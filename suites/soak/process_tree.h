// What the soak test looks at on this machine after killing a harness: the processes descended
// from a pid, the sockets they hold, and the listening TCP sockets of /proc/net/tcp{,6}.
//
// Everything is read from /proc at the moment of the call; a process that exits meanwhile is
// simply not listed. Thread safety: the functions are thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "harness/core/run_dir.h"

namespace faultline::soak {

// Every process (zombies included) whose chain of parents reaches `root`, `root` excluded.
std::vector<pid_t> descendants_of(pid_t root);

// The inodes of the sockets process `pid` has open (empty if it is gone).
std::set<std::uint64_t> socket_inodes(pid_t pid);

struct ListeningSocket {
  std::uint64_t inode = 0;
  int port = 0;
  bool v6 = false;
  std::string text() const;  // "tcp6 port 4321 (inode 99)"
};
// The TCP sockets in state LISTEN in this network namespace.
std::vector<ListeningSocket> listening_sockets();

// The names `ip netns list` would show (/run/netns).
std::set<std::string> network_namespaces();

// "pid 12 (redis-server, state S)"; "pid 12 (gone)".
std::string describe_process(pid_t pid);

}  // namespace faultline::soak
