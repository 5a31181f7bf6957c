// DockerDaemon's process backing: a container whose image maps to a local program runs as a real
// process (ProcessBacking, ContainerProcess); its exit drives the state machine as die does, its
// output is the container's log, and CMD / CMD-SHELL health checks run as real commands.
#include <signal.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "fakes/docker/api_types.h"
#include "fakes/docker/daemon.h"
#include "fakes/docker/process_backing.h"
#include "harness/core/ports.h"

namespace faultline::fakes::docker {

using nlohmann::json;

namespace {

std::string read_file(const std::filesystem::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > limit) text.resize(limit);
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line + "\n");
  return out;
}

// The container's Env ("KEY=value" strings) as a process environment.
std::map<std::string, std::string> env_of(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& kv : env) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

std::filesystem::path run_log(const Container& c, int run, const char* stream) {
  return c.dir / ("run-" + std::to_string(run) + "." + stream);
}

}  // namespace

void DockerDaemon::prepare_local(Container& c) {
  if (!backing_) return;
  c.local = backing_->resolve(c.image);
  if (!c.local) return;
  c.dir = backing_->container_dir(c.id);
  std::filesystem::create_directories(c.dir);
  const json& hc = c.host_config_json;
  if (hc.contains("Binds") && hc["Binds"].is_array()) {
    for (const auto& b : hc["Binds"]) {
      if (!b.is_string()) throw ApiError(400, "HostConfig.Binds: expected strings");
      const std::string spec = b.get<std::string>();
      const auto colon = spec.find(':');
      if (colon == std::string::npos) continue;  // an anonymous volume: the data dir below
      const std::string source = spec.substr(0, colon);
      std::string target = spec.substr(colon + 1);
      target = target.substr(0, target.find(':'));  // ":ro", ":z"
      if (target.empty() || target[0] != '/') {
        throw ApiError(400, "invalid mount config: " + spec + ": mount path must be absolute");
      }
      if (source.empty()) continue;
      if (source[0] == '/') {
        c.mounts.push_back({target, source});
      } else {
        c.mounts.push_back({target, backing_->volume_dir(source)});
      }
    }
  }
  const std::string data = c.local->data_dir;
  if (!data.empty()) {
    bool mounted = false;
    for (const auto& m : c.mounts) mounted = mounted || m.target == data;
    if (!mounted) {
      const auto dir = c.dir / std::filesystem::path(data).filename();
      std::filesystem::create_directories(dir);
      c.mounts.push_back({data, dir});
    }
  }
  std::sort(c.mounts.begin(), c.mounts.end(), [](const PathMapping& a, const PathMapping& b) {
    return a.target.size() > b.target.size();
  });
  if (c.local->container_port > 0) {
    c.host_port = pick_free_port();
    const std::string key = std::to_string(c.local->container_port) + "/tcp";
    if (hc.contains("PortBindings") && hc["PortBindings"].is_object() &&
        hc["PortBindings"].contains(key)) {
      c.published[key] = c.host_port;
    }
  }
}

void DockerDaemon::spawn_local(Container& c) {
  // dockerd's record of a start that could not run the process: exit 127 and the error.
  auto failed = [&c](const Error& e, const char* step) {
    c.exit_code = 127;
    c.error = e.what();
    if (c.status == ContainerStatus::kRestarting) c.status = ContainerStatus::kExited;
    return ApiError(400, std::string("failed to create task for container: ") + step + e.what());
  };
  ProcessSpec spec;
  try {
    spec.argv = local_command(*c.local, c.entrypoint, c.cmd, c.mounts, c.host_port);
  } catch (const Error& e) {
    throw failed(e, "exec: ");
  }
  spec.env = env_of(c.env);
  spec.env["HOSTNAME"] = c.hostname;
  spec.cwd = c.dir;
  const int run = ++c.runs;
  spec.stdout_path = run_log(c, run, "out");
  spec.stderr_path = run_log(c, run, "err");
  const std::uint64_t generation = ++c.process_generation;
  std::weak_ptr<DockerDaemon> weak = weak_from_this();
  const std::string id = c.id;
  try {
    c.process = backing_->spawn(std::move(spec), [weak, id, generation](int code, bool) {
      if (auto self = weak.lock()) self->local_exited(id, generation, code);
    });
  } catch (const Error& e) {
    throw failed(e, "");
  }
  c.pid = c.process->pid();
}

void DockerDaemon::local_exited(const std::string& id, std::uint64_t generation, int code) {
  Lock lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  Container& c = it->second;
  if (c.process_generation != generation || !c.process) return;
  c.process.reset();
  if (c.probe) {
    c.probe->signal_group(SIGKILL);
    c.probe.reset();
  }
  if (c.forced_exit_code) code = *std::exchange(c.forced_exit_code, std::nullopt);
  const bool stopping = std::exchange(c.stopping, false);
  on_exit(c, code, false);
  if (stopping) emit_container(c, "stop");
}

void DockerDaemon::kill_local(Container& c, int sig, std::optional<int> forced_exit_code) {
  if (!c.process) return;
  if (forced_exit_code) c.forced_exit_code = forced_exit_code;
  if (sig == SIGKILL || forced_exit_code) {
    c.process->signal_group(SIGKILL);
  } else {
    c.process->signal(sig);
  }
}

void DockerDaemon::end_local(Container& c) {
  if (c.probe) {
    c.probe->signal_group(SIGKILL);
    c.probe.reset();
  }
  if (!c.process) return;
  auto process = std::exchange(c.process, nullptr);
  ++c.process_generation;  // its exit is ours to record, not the watcher's
  process->signal_group(SIGKILL);
  process->wait_reaped(std::chrono::seconds(10));
}

bool DockerDaemon::run_local_probe(Container& c) {
  if (!c.local) return false;
  const auto argv = local_health_command(*c.local, c.healthcheck.test, c.mounts, c.host_port);
  if (argv.empty()) return false;
  ProcessSpec spec;
  spec.argv = argv;
  spec.env = env_of(c.env);
  spec.cwd = c.dir;
  spec.stdout_path = spec.stderr_path = c.dir / "health.out";
  std::weak_ptr<DockerDaemon> weak = weak_from_this();
  const std::string id = c.id;
  const std::uint64_t generation = c.process_generation;
  const auto started = wall();
  const auto output = spec.stdout_path;
  const auto timeout = c.healthcheck.timeout;
  try {
    c.probe = backing_->spawn(
        std::move(spec),
        [weak, id, generation, started, output, timeout](int code, bool timed_out) {
          auto self = weak.lock();
          if (!self) return;
          std::string text = read_file(output, 4096);  // dockerd keeps 4 KiB of probe output
          if (timed_out) {
            code = -1;
            text = "Health check exceeded timeout (" +
                   std::to_string(
                       std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
                   "ms)";
          }
          self->local_probe_done(id, generation, started, code, text);
        },
        timeout);
  } catch (const Error& e) {
    record_probe(c, false, -1, e.what(), started);
    schedule_probe(c, c.healthcheck.interval);
  }
  return true;
}

void DockerDaemon::local_probe_done(const std::string& id, std::uint64_t generation,
                                    std::chrono::system_clock::time_point started, int code,
                                    const std::string& output) {
  Lock lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  Container& c = it->second;
  if (c.process_generation != generation || !c.running() || !c.probe) return;
  c.probe.reset();
  record_probe(c, code == 0 && !c.force_unhealthy, code, output, started);
  schedule_probe(c, c.healthcheck.interval);
}

namespace {

// dockerd's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
bool valid_volume_name(const std::string& name) {
  if (name.size() < 2 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (const char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

json DockerDaemon::create_volume(const std::string& name) {
  if (!valid_volume_name(name)) {
    throw ApiError(400, "create " + name + ": \"" + name +
                            "\" includes invalid characters for a local volume name, only "
                            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed");
  }
  Lock lock(mu_);
  backing_->volume_dir(name);
  return inspect_volume(name);
}

json DockerDaemon::inspect_volume(const std::string& name) const {
  Lock lock(mu_);
  if (!valid_volume_name(name) || !backing_->volume_exists(name)) {
    throw ApiError(404, "get " + name + ": no such volume");
  }
  return {{"Name", name},
          {"Driver", "local"},
          {"Mountpoint", backing_->volume_dir(name).string()},
          {"Labels", json::object()},
          {"Scope", "local"},
          {"Options", nullptr}};
}

void DockerDaemon::remove_volume(const std::string& name) {
  Lock lock(mu_);
  if (!valid_volume_name(name) || !backing_->volume_exists(name)) {
    throw ApiError(404, "get " + name + ": no such volume");
  }
  const auto dir = backing_->volume_dir(name);
  std::vector<std::string> users;
  for (const auto& [id, c] : containers_) {
    for (const auto& m : c.mounts) {
      if (m.source == dir) users.push_back(id);
    }
  }
  if (!users.empty()) {
    std::string list;
    for (const auto& u : users) list += (list.empty() ? "" : ", ") + u;
    throw ApiError(409, "remove " + name + ": volume is in use - [" + list + "]");
  }
  backing_->remove_volume(name);
}

std::vector<LogLine> DockerDaemon::local_logs(const Container& c, bool out, bool err) const {
  std::vector<LogLine> lines;
  for (int run = 1; run <= c.runs; ++run) {
    if (out) {
      for (auto& l : lines_of(read_file(run_log(c, run, "out"), 64 << 20))) {
        lines.push_back({1, std::move(l)});
      }
    }
    if (err) {
      for (auto& l : lines_of(read_file(run_log(c, run, "err"), 64 << 20))) {
        lines.push_back({2, std::move(l)});
      }
    }
  }
  return lines;
}

}  // namespace faultline::fakes::docker
