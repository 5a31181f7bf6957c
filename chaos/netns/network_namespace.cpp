#include "chaos/netns/network_namespace.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "harness/core/error.h"
#include "harness/core/supervisor.h"

namespace faultline::netns {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::seconds kCommandTimeout{20};

std::atomic<unsigned> next_sequence{0};

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

// Single-quoted for /bin/sh.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The IPv4 addresses this namespace's interfaces have now.
std::set<std::string> host_addresses() {
  std::set<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) out.insert(text);
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

std::string tool_path(const std::string& name) {
  std::vector<fs::path> dirs;
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const size_t colon = rest.find(':');
      dirs.emplace_back(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  dirs.emplace_back("/usr/sbin");
  dirs.emplace_back("/sbin");
  for (const auto& dir : dirs) {
    const fs::path candidate = dir / name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return name;
}

void run_checked(const std::vector<std::string>& argv) {
  const CompletedProcess done = run_to_completion(argv, kCommandTimeout);
  if (done.timed_out) throw Error("`" + join(argv) + "` timed out");
  if (!done.status.success()) throw Error("`" + join(argv) + "` failed: " + done.status.str());
}

std::optional<std::string> unavailable(RunDirectory& run) {
  if (::geteuid() != 0)
    return "network namespaces need root (euid " + std::to_string(::geteuid()) + ")";
  const std::string ip = tool_path("ip");
  const std::string iptables = tool_path("iptables");
  if (ip.find('/') == std::string::npos) return std::string("`ip` (iproute2) is not installed");
  if (iptables.find('/') == std::string::npos) return std::string("`iptables` is not installed");
  if (tool_path("ss").find('/') == std::string::npos)
    return std::string("`ss` (iproute2) is not installed");
  const std::string probe =
      "fl-probe-" + std::to_string(::getpid()) + "-" + std::to_string(next_sequence.fetch_add(1));
  const auto heal = run.add_heal_action(
      "remove probe network namespace " + probe,
      {"/bin/sh", "-c", quote(ip) + " netns del " + probe + " 2>/dev/null; exit 0"});
  std::optional<std::string> why;
  try {
    run_checked({ip, "netns", "add", probe});
    try {
      run_checked({ip, "netns", "exec", probe, iptables, "-w", "-A", "INPUT", "-i", "lo", "-m",
                   "comment", "--comment", "faultline-probe", "-j", "DROP"});
      run_checked({ip, "netns", "exec", probe, iptables, "-w", "-D", "INPUT", "-i", "lo", "-m",
                   "comment", "--comment", "faultline-probe", "-j", "DROP"});
    } catch (const Error& e) {
      why = std::string("iptables does not work inside a network namespace here: ") + e.what();
    }
    run_checked({ip, "netns", "del", probe});
  } catch (const Error& e) {
    if (!why) why = std::string("cannot make a network namespace here: ") + e.what();
    run_to_completion({ip, "netns", "del", probe}, kCommandTimeout);
  }
  run.heal_done(heal);
  return why;
}

NetworkNamespace::NetworkNamespace(RunDirectory& run) : run_(run) {
  const unsigned seq = next_sequence.fetch_add(1);
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(seq % 100000);
  name_ = "fl-" + tag;
  host_if_ = "fh" + tag;  // at most 15 characters (IFNAMSIZ - 1) for a pid below 2^22
  ns_if_ = "fn" + tag;
  // A /30 block of 10.213.0.0/16 that no interface here uses yet.
  const auto taken = host_addresses();
  unsigned index = (static_cast<unsigned>(::getpid()) * 31u + seq) % 16384u;
  for (int tries = 0;; ++tries, index = (index + 1) % 16384u) {
    const unsigned base = index * 4;
    host_addr_ = "10.213." + std::to_string(base / 256) + "." + std::to_string(base % 256 + 1);
    ns_addr_ = "10.213." + std::to_string(base / 256) + "." + std::to_string(base % 256 + 2);
    if (!taken.count(host_addr_)) break;
    if (tries > 16384) throw Error("no free /30 left in 10.213.0.0/16 for a network namespace");
  }
  const std::string ip = tool_path("ip");
  // Registered before anything exists, so a kill at any point below still removes what was made.
  heal_id_ =
      run_.add_heal_action("remove network namespace " + name_ + " and veth " + host_if_,
                           {"/bin/sh", "-c",
                            quote(ip) + " netns del " + name_ + " 2>/dev/null; " + quote(ip) +
                                " link del " + host_if_ + " 2>/dev/null; exit 0"});
  try {
    run_checked({ip, "netns", "add", name_});
    run_checked(
        {ip, "link", "add", host_if_, "type", "veth", "peer", "name", ns_if_, "netns", name_});
    run_checked({ip, "addr", "add", host_addr_ + "/30", "dev", host_if_});
    run_checked({ip, "link", "set", host_if_, "up"});
    run_checked({ip, "-n", name_, "addr", "add", ns_addr_ + "/30", "dev", ns_if_});
    run_checked({ip, "-n", name_, "link", "set", ns_if_, "up"});
    run_checked({ip, "-n", name_, "link", "set", "lo", "up"});
  } catch (...) {
    try {
      destroy();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "faultline: %s\n", e.what());
    }
    throw;
  }
}

NetworkNamespace::~NetworkNamespace() {
  try {
    destroy();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "faultline: %s\n", e.what());
  }
}

bool NetworkNamespace::exists() const {
  return fs::exists(fs::path("/run/netns") / name_);
}

std::vector<std::string> NetworkNamespace::exec_argv(const std::vector<std::string>& argv) const {
  std::vector<std::string> out{tool_path("ip"), "netns", "exec", name_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void NetworkNamespace::destroy() {
  if (destroyed_) return;
  // Deleting the namespace deletes the veth end inside it, and with it the pair; the second
  // command is for a pair made but not yet moved. Both ignore "not there", like the heal action.
  const std::string ip = quote(tool_path("ip"));
  run_to_completion({"/bin/sh", "-c",
                     ip + " netns del " + name_ + " 2>/dev/null; " + ip + " link del " + host_if_ +
                         " 2>/dev/null; exit 0"},
                    kCommandTimeout);
  if (exists()) throw Error("network namespace " + name_ + " could not be removed");
  run_.heal_done(heal_id_);
  destroyed_ = true;
}

}  // namespace faultline::netns
