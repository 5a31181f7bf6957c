// DockerDaemon: what happens inside a running container — start, the main process exiting (the
// restart policy with dockerd's backoff), health probes — and the container faults.
#include <signal.h>

#include <algorithm>

#include "fakes/docker/api_types.h"
#include "fakes/docker/daemon.h"

namespace faultline::fakes::docker {

using nlohmann::json;

void DockerDaemon::cancel_timers(Container& c) {
  for (TimerId* t : {&c.restart_timer, &c.stop_timer, &c.probe_timer}) {
    if (*t) clock_.cancel(*t);
    *t = 0;
  }
}

void DockerDaemon::do_start(Container& c) {
  try {
    check_capacity(c);
  } catch (const ApiError& e) {
    c.error = e.what();
    c.exit_code = 128;
    if (c.status == ContainerStatus::kRestarting) c.status = ContainerStatus::kExited;
    throw;
  }
  if (c.local) {
    spawn_local(c);  // c.pid: the real process
  } else {
    c.pid = next_pid_++;
  }
  c.status = ContainerStatus::kRunning;
  c.exit_code = 0;
  c.error.clear();
  c.oom_killed = false;
  c.manually_stopped = false;
  c.started_before = true;
  c.started_at = wall();
  c.started_on_clock = clock_.now();
  emit_container(c, "start");
  if (c.healthcheck.enabled()) {
    c.health = "starting";
    c.failing_streak = 0;
    c.probes_run = 0;
    schedule_probe(c, c.healthcheck.interval);
  }
}

void DockerDaemon::on_exit(Container& c, int exit_code, bool by_api) {
  if (c.probe_timer) clock_.cancel(c.probe_timer);
  if (c.stop_timer) clock_.cancel(c.stop_timer);
  c.probe_timer = c.stop_timer = 0;
  c.status = ContainerStatus::kExited;
  c.pid = 0;
  c.exit_code = exit_code;
  c.finished_at = wall();
  if (c.oom_killed) emit_container(c, "oom");
  emit_container(c, "die", {{"exitCode", std::to_string(exit_code)}});
  const auto ran_for = clock_.now() - c.started_on_clock;
  const auto decision = c.backoff.on_exit(c.restart_policy, exit_code, by_api || c.manually_stopped,
                                          ran_for, c.restart_count);
  // Waiters see the exit, as dockerd's SetStopped wakes them before any restart.
  const json result = {{"StatusCode", exit_code}, {"Error", nullptr}};
  std::vector<std::function<void(json)>> fire;
  for (auto it = waiters_.lower_bound(c.id); it != waiters_.end() && it->first == c.id;) {
    if (it->second.condition != "removed") {
      fire.push_back(std::move(it->second.done));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<Done> stops;
  for (auto it = stop_waiters_.lower_bound(c.id); it != stop_waiters_.end() && it->first == c.id;) {
    stops.push_back(std::move(it->second));
    it = stop_waiters_.erase(it);
  }
  if (decision.restart) {
    c.status = ContainerStatus::kRestarting;
    std::weak_ptr<DockerDaemon> weak = weak_from_this();
    const std::string id = c.id;
    c.restart_timer = clock_.call_after(decision.delay, [weak, id] {
      auto self = weak.lock();
      if (!self) return;
      Lock lock(self->mu_);
      auto it = self->containers_.find(id);
      if (it == self->containers_.end()) return;
      Container& again = it->second;
      again.restart_timer = 0;
      if (again.status != ContainerStatus::kRestarting) return;
      ++again.restart_count;
      try {
        self->do_start(again);
      } catch (const ApiError&) {
        self->on_exit(again, 128, false);  // a start that fails counts as another exit
      }
    });
  }
  for (auto& f : fire) f(result);
  for (auto& f : stops) f();
}

void DockerDaemon::schedule_probe(Container& c, std::chrono::nanoseconds delay) {
  std::weak_ptr<DockerDaemon> weak = weak_from_this();
  const std::string id = c.id;
  c.probe_timer = clock_.call_after(delay, [weak, id] {
    if (auto self = weak.lock()) self->run_probe(id);
  });
}

void DockerDaemon::run_probe(const std::string& id) {
  Lock lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  Container& c = it->second;
  c.probe_timer = 0;
  if (!c.running()) return;
  if (c.status == ContainerStatus::kPaused) {  // an exec into a frozen container never runs
    schedule_probe(c, c.healthcheck.interval);
    return;
  }
  if (run_local_probe(c)) return;  // a real command: its result comes from its watcher
  const int index = c.probes_run++;
  bool pass = !c.force_unhealthy;
  if (c.flapping_period > 0) pass = pass && (index / c.flapping_period) % 2 == 0;
  record_probe(c, pass, pass ? 0 : 1, pass ? "fake probe passed" : "fake probe failed", wall());
  schedule_probe(c, c.healthcheck.interval);
}

void DockerDaemon::record_probe(Container& c, bool pass, int exit_code, std::string output,
                                std::chrono::system_clock::time_point started) {
  HealthLogEntry entry;
  entry.start = started;
  entry.end = wall();
  entry.exit_code = exit_code;
  entry.output = std::move(output);
  c.health_log.push_back(entry);
  while (c.health_log.size() > 5) c.health_log.pop_front();
  const std::string before = c.health;
  if (pass) {
    c.failing_streak = 0;
    c.health = "healthy";
  } else {
    const bool in_start_period =
        c.health == "starting" && clock_.now() - c.started_on_clock < c.healthcheck.start_period;
    if (!in_start_period) {
      ++c.failing_streak;
      if (c.failing_streak >= c.healthcheck.retries) c.health = "unhealthy";
    }
  }
  if (c.health != before) emit_container(c, "health_status: " + c.health);
}

// --- faults ---

void DockerDaemon::die(const std::string& ref, int exit_code) {
  Lock lock(mu_);
  Container& c = find(ref);
  if (!c.running()) throw ApiError(409, "Container " + c.id + " is not running");
  if (c.process) return kill_local(c, SIGKILL, exit_code);  // the watcher records the exit
  on_exit(c, exit_code, false);
}

void DockerDaemon::oom_kill(const std::string& ref) {
  Lock lock(mu_);
  Container& c = find(ref);
  if (!c.running()) throw ApiError(409, "Container " + c.id + " is not running");
  c.oom_killed = true;
  if (c.process) return kill_local(c, SIGKILL, 137);
  on_exit(c, 137, false);
}

void DockerDaemon::set_unhealthy(const std::string& ref, bool on) {
  Lock lock(mu_);
  find(ref).force_unhealthy = on;
}

void DockerDaemon::set_flapping(const std::string& ref, int period) {
  if (period < 0) throw Error("flapping period must be >= 0");
  Lock lock(mu_);
  Container& c = find(ref);
  c.flapping_period = period;
  c.probes_run = 0;
}

void DockerDaemon::set_ignores_sigterm(const std::string& ref, bool on) {
  Lock lock(mu_);
  find(ref).ignores_sigterm = on;
}

void DockerDaemon::append_log(const std::string& ref, const std::string& text, int stream) {
  if (stream != 1 && stream != 2) throw Error("log stream must be 1 (stdout) or 2 (stderr)");
  Lock lock(mu_);
  find(ref).logs.push_back({stream, text});
}

void DockerDaemon::heal_health_overrides() {
  Lock lock(mu_);
  for (auto& [id, c] : containers_) {
    c.force_unhealthy = false;
    c.flapping_period = 0;
    c.ignores_sigterm = false;
  }
}

}  // namespace faultline::fakes::docker
