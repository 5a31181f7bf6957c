// `faultline status [--json]`: the services of every running `faultline up`, from their state
// files. `faultline down [--pid P]`: SIGTERM to them (or to one), and wait until they have
// stopped their stacks and exited.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>

#include "harness/backends/up_state.h"
#include "harness/cli/commands.h"
#include "harness/core/error.h"
#include "harness/core/run_dir.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;

void run_status(bool json) {
  const auto states = backends::running_up_states(default_runs_root());
  if (json) {
    std::printf("%s\n", nlohmann::json(states).dump(2).c_str());
    return;
  }
  if (states.empty()) {
    std::printf("no running stack (faultline up)\n");
    return;
  }
  for (const auto& st : states) {
    std::printf("stack %s  backend %s  pid %d  seed %llu  updated %s\n",
                st.value("stack", "?").c_str(), st.value("backend", "?").c_str(),
                st.value("pid", 0), static_cast<unsigned long long>(st.value("seed", 0ull)),
                st.value("updated", "?").c_str());
    std::printf("  %-16s %-8s %8s %8s  %s\n", "SERVICE", "STATUS", "UPTIME", "RESTARTS", "URL");
    static const nlohmann::json kNone = nlohmann::json::array();
    const nlohmann::json& services = st.contains("services") ? st.at("services") : kNone;
    for (const auto& s : services) {
      const auto& url = s["health_check_url"];
      std::printf("  %-16s %-8s %7llds %8d  %s\n", s.value("service_name", "?").c_str(),
                  s.value("status", "?").c_str(),
                  static_cast<long long>(s.value("uptime_seconds", 0LL)), s.value("restarts", 0),
                  url.is_string() ? url.get<std::string>().c_str() : "-");
    }
    if (!st.contains("unavailable")) continue;
    for (const auto& [service, why] : st.at("unavailable").items()) {
      std::printf("  %-16s %-8s  %s\n", service.c_str(), "absent", why.get<std::string>().c_str());
    }
  }
}

void run_down(int pid, int timeout_s) {
  std::vector<ProcessIdentity> targets;
  for (const auto& st : backends::running_up_states(default_runs_root())) {
    const ProcessIdentity id{st.value("pid", 0), st.value("pid_start_time", 0ull)};
    if (pid == 0 || id.pid == pid) targets.push_back(id);
  }
  if (targets.empty()) {
    if (pid != 0) throw UsageError("no running 'faultline up' with pid " + std::to_string(pid));
    std::printf("no running stack (faultline up)\n");
    return;
  }
  for (const auto& id : targets) {
    if (id.alive()) ::kill(id.pid, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (const auto& id : targets) {
    while (id.alive() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);  // polling another process's exit, bounded
    }
    if (id.alive()) {
      std::fprintf(stderr, "faultline down: pid %d still running after %d s\n", id.pid, timeout_s);
      cli::set_exit_code(1);
    } else {
      std::printf("stopped pid %d\n", id.pid);
    }
  }
}

void add_status_commands(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* status = app.add_subcommand("status", "Show the services of running stacks (faultline up)");
  status->add_flag("--json", *json, "print the state files as JSON");
  status->callback([json] { run_status(*json); });

  auto pid = std::make_shared<int>(0);
  auto timeout = std::make_shared<int>(60);
  auto* down = app.add_subcommand("down", "Stop running stacks (SIGTERM to faultline up)");
  down->add_option("--pid", *pid, "only the 'faultline up' with this pid");
  down->add_option("--timeout", *timeout, "seconds to wait for them to stop (default 60)");
  down->callback([pid, timeout] { run_down(*pid, *timeout); });
}

}  // namespace

FAULTLINE_COMMAND(41, add_status_commands);

}  // namespace faultline
