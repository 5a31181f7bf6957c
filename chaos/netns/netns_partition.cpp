#include "chaos/netns/netns_partition.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <sstream>

#include "harness/core/error.h"
#include "harness/core/supervisor.h"

namespace faultline::netns {
namespace {

std::atomic<unsigned> next_partition{0};

std::string quote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

NetnsPartition::NetnsPartition(RunDirectory& run, const NetworkNamespace& ns)
    : run_(run),
      ns_(ns),
      comment_("faultline-partition-" + std::to_string(::getpid()) + "-" +
               std::to_string(next_partition.fetch_add(1))) {}

NetnsPartition::~NetnsPartition() {
  try {
    heal();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "faultline: %s\n", e.what());
  }
}

// One shell line: inside the namespace, delete this partition's rules until none is left, and
// succeed only if none is left; a namespace that is gone has nothing left to heal.
std::string NetnsPartition::heal_command() const {
  const std::string ip = quote(tool_path("ip"));
  const std::string iptables = tool_path("iptables");
  const std::string in = "INPUT -i " + ns_.namespace_interface();
  const std::string out = "OUTPUT -o " + ns_.namespace_interface();
  const std::string match = " -m comment --comment " + comment_ + " -j DROP";
  std::string inner;
  for (const auto& chain : {in, out}) {
    inner += "while " + iptables + " -w -D " + chain + match + " 2>/dev/null; do :; done; ";
  }
  inner += "! " + iptables + " -w -C " + in + match + " 2>/dev/null && ! " + iptables + " -w -C " +
           out + match + " 2>/dev/null";
  return ip + " netns exec " + ns_.name() + " true 2>/dev/null || exit 0; " + ip + " netns exec " +
         ns_.name() + " /bin/sh -c " + quote(inner);
}

void NetnsPartition::cut() {
  if (heal_id_) return;
  heal_id_ = run_.add_heal_action(
      "heal network partition of namespace " + ns_.name() + " (" + comment_ + ")",
      {"/bin/sh", "-c", heal_command()});
  try {
    const std::string iptables = tool_path("iptables");
    run_checked(ns_.exec_argv({iptables, "-w", "-I", "INPUT", "-i", ns_.namespace_interface(), "-m",
                               "comment", "--comment", comment_, "-j", "DROP"}));
    run_checked(ns_.exec_argv({iptables, "-w", "-I", "OUTPUT", "-o", ns_.namespace_interface(),
                               "-m", "comment", "--comment", comment_, "-j", "DROP"}));
  } catch (...) {
    try {
      heal();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "faultline: %s\n", e.what());
    }
    throw;
  }
}

void NetnsPartition::heal() {
  if (!heal_id_) return;
  const CompletedProcess done =
      run_to_completion({"/bin/sh", "-c", heal_command()}, std::chrono::seconds(20));
  if (done.timed_out || !done.status.success()) {
    throw Error("cannot heal the network partition of namespace " + ns_.name() + ": " +
                (done.timed_out ? std::string("timed out") : done.status.str()));
  }
  run_.heal_done(*heal_id_);
  heal_id_.reset();
}

bool NetnsPartition::rules_present() const {
  // `iptables -C` complains on stderr when the rule is not there: an answer here, not an error.
  std::string command;
  for (const auto& arg :
       ns_.exec_argv({tool_path("iptables"), "-w", "-C", "INPUT", "-i", ns_.namespace_interface(),
                      "-m", "comment", "--comment", comment_, "-j", "DROP"})) {
    command += quote(arg) + " ";
  }
  const CompletedProcess done =
      run_to_completion({"/bin/sh", "-c", command + "2>/dev/null"}, std::chrono::seconds(20));
  return !done.timed_out && done.status.success();
}

std::uint64_t NetnsPartition::dropped_packets() const {
  // iptables -L -v -x: "pkts bytes target ... /* comment */" per rule.
  std::string command;
  for (const auto& arg : ns_.exec_argv({tool_path("iptables"), "-w", "-L", "-v", "-n", "-x"})) {
    command += quote(arg) + " ";
  }
  command += "2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return 0;
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) text.append(buf, n);
  ::pclose(pipe);
  std::uint64_t total = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("/* " + comment_ + " */") == std::string::npos) continue;
    std::uint64_t packets = 0;
    if (std::istringstream(line) >> packets) total += packets;
  }
  return total;
}

std::size_t NetnsPartition::abort_host_connections() const {
  // -H: no header, so each line printed is one socket ss matched and destroyed.
  const std::string command =
      quote(tool_path("ss")) + " -H -t -K dst " + ns_.namespace_address() + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw Error("cannot run `" + command + "`");
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) text.append(buf, n);
  const int status = ::pclose(pipe);
  if (status != 0) {
    throw Error("`ss -K dst " + ns_.namespace_address() + "` failed (status " +
                std::to_string(status) + ")");
  }
  std::size_t aborted = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) ++aborted;
  return aborted;
}

}  // namespace faultline::netns
