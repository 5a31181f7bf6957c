#include "suites/soak/process_tree.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace faultline::soak {
namespace {

namespace fs = std::filesystem;

std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    out.push_back(static_cast<pid_t>(std::atoi(name.c_str())));
  }
  return out;
}

void read_listening(const char* file, bool v6, std::vector<ListeningSocket>& out) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout;
    std::uint64_t inode = 0;
    if (!(fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode)) {
      continue;
    }
    if (state != "0A") continue;  // TCP_LISTEN
    const size_t colon = local.rfind(':');
    if (colon == std::string::npos) continue;
    ListeningSocket s;
    s.inode = inode;
    s.port = static_cast<int>(std::strtol(local.c_str() + colon + 1, nullptr, 16));
    s.v6 = v6;
    out.push_back(s);
  }
}

}  // namespace

std::vector<pid_t> descendants_of(pid_t root) {
  std::map<pid_t, pid_t> parent;
  for (const pid_t pid : all_pids()) {
    if (const auto status = read_process_status(pid)) parent[pid] = status->ppid;
  }
  std::vector<pid_t> out;
  for (const auto& [pid, ppid] : parent) {
    pid_t up = ppid;
    for (int depth = 0; depth < 64 && up > 1 && up != root; ++depth) {
      const auto it = parent.find(up);
      up = it == parent.end() ? 0 : it->second;
    }
    if (up == root && pid != root) out.push_back(pid);
  }
  return out;
}

std::set<std::uint64_t> socket_inodes(pid_t pid) {
  std::set<std::uint64_t> out;
  std::error_code ec;
  const fs::path fds = fs::path("/proc") / std::to_string(pid) / "fd";
  for (fs::directory_iterator it(fds, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code link_ec;
    const std::string target = fs::read_symlink(it->path(), link_ec).string();
    if (link_ec || !target.starts_with("socket:[")) continue;
    out.insert(std::strtoull(target.c_str() + 8, nullptr, 10));
  }
  return out;
}

std::string ListeningSocket::text() const {
  return std::string(v6 ? "tcp6" : "tcp") + " port " + std::to_string(port) + " (inode " +
         std::to_string(inode) + ")";
}

std::vector<ListeningSocket> listening_sockets() {
  std::vector<ListeningSocket> out;
  read_listening("/proc/net/tcp", false, out);
  read_listening("/proc/net/tcp6", true, out);
  return out;
}

std::set<std::string> network_namespaces() {
  std::set<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it("/run/netns", ec), end; !ec && it != end; it.increment(ec)) {
    out.insert(it->path().filename().string());
  }
  return out;
}

std::string describe_process(pid_t pid) {
  const auto status = read_process_status(pid);
  if (!status) return "pid " + std::to_string(pid) + " (gone)";
  std::ifstream comm(fs::path("/proc") / std::to_string(pid) / "comm");
  std::string name;
  std::getline(comm, name);
  return "pid " + std::to_string(pid) + " (" + name + ", state " + status->state + ", parent " +
         std::to_string(status->ppid) + ")";
}

}  // namespace faultline::soak
