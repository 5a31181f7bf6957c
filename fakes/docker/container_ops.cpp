// DockerDaemon: the container API — create, start, stop, kill, restart, pause, unpause, wait,
// remove, inspect, list, logs — with dockerd's status codes and messages for illegal transitions.
#include <signal.h>

#include <algorithm>
#include <cctype>

#include "fakes/docker/api_types.h"
#include "fakes/docker/container_process.h"
#include "fakes/docker/daemon.h"
#include "fakes/docker/signals.h"

namespace faultline::fakes::docker {

using nlohmann::json;

namespace {

std::vector<std::string> strings(const json& j, const char* what) {
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (j.is_string()) return {j.get<std::string>()};
  if (!j.is_array()) throw ApiError(400, std::string(what) + ": expected an array of strings");
  for (const auto& v : j) {
    if (!v.is_string()) throw ApiError(400, std::string(what) + ": expected an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::int64_t integer(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return 0;
  if (!obj[key].is_number_integer()) {
    throw ApiError(400, std::string("json: cannot unmarshal ") + obj[key].type_name() +
                            " into Go struct field of type int64 (" + key + ")");
  }
  return obj[key].get<std::int64_t>();
}

// dockerd's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (containers: two characters at least).
bool valid_name(const std::string& name, std::size_t min_size) {
  if (name.size() < min_size) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool alnum = std::isalnum(c) != 0;
    if (!(alnum || (i > 0 && (c == '_' || c == '.' || c == '-')))) return false;
  }
  return true;
}

Healthcheck parse_healthcheck(const json& h) {
  Healthcheck hc;
  if (!h.is_object()) return hc;
  hc.test = strings(h.value("Test", json(nullptr)), "Healthcheck.Test");
  const std::int64_t interval = integer(h, "Interval"), timeout = integer(h, "Timeout");
  const std::int64_t start = integer(h, "StartPeriod"), retries = integer(h, "Retries");
  constexpr std::int64_t kMs = 1000000;
  if (interval != 0 && interval < kMs) {
    throw ApiError(400, "Interval in Healthcheck cannot be less than 1ms");
  }
  if (timeout != 0 && timeout < kMs) {
    throw ApiError(400, "Timeout in Healthcheck cannot be less than 1ms");
  }
  if (retries < 0) throw ApiError(400, "Retries in Healthcheck cannot be negative");
  if (start != 0 && start < kMs) {
    throw ApiError(400, "StartPeriod in Healthcheck cannot be less than 1ms");
  }
  if (interval) hc.interval = std::chrono::nanoseconds(interval);
  if (timeout) hc.timeout = std::chrono::nanoseconds(timeout);
  hc.start_period = std::chrono::nanoseconds(start);
  if (retries) hc.retries = static_cast<int>(std::min<std::int64_t>(retries, 1000000));
  return hc;
}

}  // namespace

json DockerDaemon::create(const std::string& requested_name, const json& body) {
  if (!body.is_object())
    throw ApiError(400, "config cannot be empty in order to create a container");
  Lock lock(mu_);
  Container c;
  const json& hc = body.value("HostConfig", json::object());
  if (!hc.is_object() && !hc.is_null()) throw ApiError(400, "HostConfig: expected an object");
  if (!body.contains("Image") || !body["Image"].is_string() ||
      body["Image"].get<std::string>().empty()) {
    throw ApiError(400, "config cannot be empty in order to create a container");
  }
  c.image = body["Image"].get<std::string>();
  if (!image_present(c.image)) {
    throw ApiError(404, "No such image: " + normalized_image(c.image));
  }

  std::string name = requested_name;
  if (!name.empty()) {
    if (!valid_name(name.size() > 1 && name[0] == '/' ? name.substr(1) : name, 2)) {
      throw ApiError(
          400, "Invalid container name (" + name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
    if (name[0] == '/') name = name.substr(1);
    for (const auto& [id, other] : containers_) {
      if (other.name == name) {
        throw ApiError(409, "Conflict. The container name \"/" + name +
                                "\" is already in use by container \"" + id +
                                "\". You have to remove (or rename) that container to be able to "
                                "reuse that name.");
      }
    }
  }
  c.env = strings(body.value("Env", json(nullptr)), "Env");
  c.cmd = strings(body.value("Cmd", json(nullptr)), "Cmd");
  c.entrypoint = strings(body.value("Entrypoint", json(nullptr)), "Entrypoint");
  if (body.contains("Labels") && body["Labels"].is_object()) {
    for (const auto& [k, v] : body["Labels"].items()) {
      if (!v.is_string()) throw ApiError(400, "Labels: values must be strings");
      c.labels[k] = v.get<std::string>();
    }
  }
  c.healthcheck = parse_healthcheck(body.value("Healthcheck", json(nullptr)));
  c.memory = integer(hc, "Memory");
  c.nano_cpus = integer(hc, "NanoCpus");
  if (c.memory < 0 || c.nano_cpus < 0) throw ApiError(400, "invalid resources: negative limit");
  if (c.memory > 0 && c.memory < 6 * 1024 * 1024) {
    throw ApiError(400, "Minimum memory limit allowed is 6MB");
  }
  if (options_.cpus > 0 && c.nano_cpus > static_cast<std::int64_t>(options_.cpus) * 1000000000LL) {
    const std::string n = std::to_string(options_.cpus);
    throw ApiError(400, "Range of CPUs is from 0.01 to " + n + ".00, as there are only " + n +
                            " CPUs available");
  }
  if (hc.is_object() && hc.contains("RestartPolicy") && hc["RestartPolicy"].is_object()) {
    const auto& rp = hc["RestartPolicy"];
    c.restart_policy = RestartPolicy::from_api(rp.value("Name", std::string()),
                                               static_cast<int>(integer(rp, "MaximumRetryCount")));
  }
  std::string mode = hc.is_object() ? hc.value("NetworkMode", std::string()) : std::string();
  if (mode.empty()) mode = "default";
  c.network_mode = mode;
  const std::string first = mode == "default" ? "bridge" : mode;
  Network& primary = find_network(first);
  if ((mode == "host" || mode == "none") && c.restart_policy.kind != RestartPolicy::Kind::kNo) {
    // accepted, as dockerd does
  }
  c.id = new_id();
  c.name = name.empty() ? "fake_" + c.id.substr(0, 12) : name;
  c.hostname = body.value("Hostname", std::string());
  if (c.hostname.empty()) c.hostname = c.id.substr(0, 12);
  c.config_json = body;
  c.config_json.erase("HostConfig");
  c.config_json.erase("NetworkingConfig");
  c.host_config_json = hc.is_object() ? hc : json::object();
  c.created = wall();
  auto& stored = containers_.emplace(c.id, std::move(c)).first->second;
  try {
    prepare_local(stored);  // process backing: the image's local program, mounts, port
  } catch (...) {
    containers_.erase(stored.id);
    throw;
  }
  std::vector<std::string> aliases;
  attach_endpoint(stored, primary, aliases);
  const json& nc = body.value("NetworkingConfig", json::object());
  if (nc.is_object() && nc.contains("EndpointsConfig") && nc["EndpointsConfig"].is_object()) {
    for (const auto& [key, cfg] : nc["EndpointsConfig"].items()) {
      const std::string net = key == "default" ? "bridge" : key;  // the CLI names the mode
      Network* n = const_cast<Network*>(find_network_or_null(net));
      if (!n) {
        containers_.erase(stored.id);
        throw ApiError(404, "network " + net + " not found");
      }
      if (stored.endpoints.count(n->name)) {
        if (cfg.is_object() && cfg.contains("Aliases")) {
          stored.endpoints[n->name].aliases = strings(cfg["Aliases"], "Aliases");
        }
        continue;
      }
      attach_endpoint(stored, *n,
                      cfg.is_object() ? strings(cfg.value("Aliases", json(nullptr)), "Aliases")
                                      : std::vector<std::string>{});
    }
  }
  emit_container(stored, "create");
  return {{"Id", stored.id}, {"Warnings", json::array()}};
}

bool DockerDaemon::start(const std::string& ref) {
  Lock lock(mu_);
  Container& c = find(ref);
  switch (c.status) {
    case ContainerStatus::kRunning:
    case ContainerStatus::kRestarting:
      return false;
    case ContainerStatus::kPaused:
      throw ApiError(409, "cannot start a paused container, try unpause instead");
    case ContainerStatus::kRemoving:
    case ContainerStatus::kDead:
      throw ApiError(409, "container is marked for removal and cannot be started");
    default:
      break;
  }
  c.backoff.reset();
  do_start(c);
  return true;
}

bool DockerDaemon::stop(const std::string& ref, std::optional<int> timeout_s, Done done) {
  Lock lock(mu_);
  Container& c = find(ref);
  if (c.status == ContainerStatus::kRestarting) {
    cancel_timers(c);
    c.manually_stopped = true;
    c.status = ContainerStatus::kExited;
    emit_container(c, "stop");
    done();
    return true;
  }
  if (!c.running()) return false;
  c.manually_stopped = true;
  emit_container(c, "kill", {{"signal", "15"}});
  const int timeout = timeout_s.value_or(10);
  if (c.process) {  // a real process: SIGTERM, SIGKILL after the timeout (real time)
    stop_waiters_.emplace(c.id, std::move(done));
    c.stopping = true;
    c.process->signal(SIGTERM);
    if (c.status == ContainerStatus::kPaused) c.process->signal_group(SIGCONT);
    if (timeout >= 0) c.process->kill_after(std::chrono::seconds(timeout));
    return true;
  }
  if (!c.ignores_sigterm || timeout == 0) {
    on_exit(c, c.ignores_sigterm ? 137 : 0, true);
    emit_container(c, "stop");
    done();
    return true;
  }
  stop_waiters_.emplace(c.id, std::move(done));
  if (timeout > 0) {
    std::weak_ptr<DockerDaemon> weak = weak_from_this();
    const std::string id = c.id;
    c.stop_timer = clock_.call_after(std::chrono::seconds(timeout), [weak, id] {
      auto self = weak.lock();
      if (!self) return;
      Lock lock(self->mu_);
      auto it = self->containers_.find(id);
      if (it == self->containers_.end() || !it->second.running()) return;
      it->second.stop_timer = 0;
      self->emit_container(it->second, "kill", {{"signal", "9"}});
      self->on_exit(it->second, 137, true);
    });
  }
  return true;
}

void DockerDaemon::kill(const std::string& ref, const std::string& signal) {
  Lock lock(mu_);
  Container& c = find(ref);
  const auto number = parse_signal(signal.empty() ? "SIGKILL" : signal);
  if (!number) throw ApiError(400, "Invalid signal: " + signal);
  if (!c.running()) {
    throw ApiError(409,
                   "Cannot kill container: " + ref + ": Container " + c.id + " is not running");
  }
  emit_container(c, "kill", {{"signal", std::to_string(*number)}});
  if (c.process) {  // the process decides; its exit (if any) comes from its watcher
    if (signal_terminates(*number)) c.manually_stopped = true;
    kill_local(c, *number);
    return;
  }
  if (!signal_terminates(*number) || (*number == 15 && c.ignores_sigterm)) return;
  c.manually_stopped = true;
  on_exit(c, 128 + *number, true);
}

void DockerDaemon::restart(const std::string& ref, std::optional<int> timeout_s, Done done) {
  Lock lock(mu_);
  Container& c = find(ref);
  const std::string id = c.id;
  auto finish = [this, id, done = std::move(done)] {
    auto it = containers_.find(id);
    if (it != containers_.end() && !it->second.running()) {
      try {
        it->second.backoff.reset();
        do_start(it->second);
        emit_container(it->second, "restart");
      } catch (const ApiError& e) {
        it->second.error = e.what();
      }
    }
    done();
  };
  if (!stop(ref, timeout_s, finish)) finish();
}

void DockerDaemon::pause(const std::string& ref, bool) {
  Lock lock(mu_);
  Container& c = find(ref);
  if (c.status == ContainerStatus::kPaused) {
    throw ApiError(409, "Container " + c.id + " is already paused");
  }
  if (c.status == ContainerStatus::kRestarting) {
    throw ApiError(409,
                   "Container " + c.id + " is restarting, wait until the container is running");
  }
  if (c.status != ContainerStatus::kRunning) {
    throw ApiError(409, "Container " + c.id + " is not running");
  }
  c.status = ContainerStatus::kPaused;
  if (c.process) c.process->signal_group(SIGSTOP);
  emit_container(c, "pause");
}

void DockerDaemon::unpause(const std::string& ref) {
  Lock lock(mu_);
  Container& c = find(ref);
  if (c.status != ContainerStatus::kPaused) {
    throw ApiError(409, "Container " + c.id + " is not paused");
  }
  c.status = ContainerStatus::kRunning;
  if (c.process) c.process->signal_group(SIGCONT);
  emit_container(c, "unpause");
}

void DockerDaemon::wait(const std::string& ref, const std::string& condition,
                        std::function<void(json)> done) {
  Lock lock(mu_);
  const std::string cond = condition.empty() ? "not-running" : condition;
  if (cond != "not-running" && cond != "next-exit" && cond != "removed") {
    throw ApiError(400, "invalid condition: \"" + condition + "\"");
  }
  Container& c = find(ref);
  if (cond == "not-running" && !c.running() && c.status != ContainerStatus::kRestarting) {
    done({{"StatusCode", c.exit_code}, {"Error", nullptr}});
    return;
  }
  waiters_.emplace(c.id, Waiter{cond, std::move(done)});
}

void DockerDaemon::remove(const std::string& ref, bool force) {
  Lock lock(mu_);
  Container& c = find(ref);
  if (!force) {
    const char* what = c.status == ContainerStatus::kPaused       ? "paused"
                       : c.status == ContainerStatus::kRestarting ? "restarting"
                       : c.running()                              ? "running"
                                                                  : nullptr;
    if (what) {
      throw ApiError(409, "cannot remove container \"/" + c.name + "\": container is " + what +
                              ": stop the container before removing or force remove");
    }
  }
  if (c.running()) {
    c.manually_stopped = true;
    emit_container(c, "kill", {{"signal", "9"}});
    end_local(c);  // a real process is killed and reaped first
    on_exit(c, 137, true);
  }
  end_local(c);  // a probe still running
  cancel_timers(c);
  detach_endpoints(c);
  const std::string id = c.id;
  emit_container(c, "destroy");
  const json result = {{"StatusCode", c.exit_code}, {"Error", nullptr}};
  const std::filesystem::path dir = c.dir;  // a process-backed container's folder
  containers_.erase(id);
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  auto [begin, end] = waiters_.equal_range(id);
  std::vector<std::function<void(json)>> fire;
  for (auto it = begin; it != end; ++it) fire.push_back(std::move(it->second.done));
  waiters_.erase(id);
  for (auto& f : fire) f(result);
  auto [sb, se] = stop_waiters_.equal_range(id);
  std::vector<Done> stops;
  for (auto it = sb; it != se; ++it) stops.push_back(std::move(it->second));
  stop_waiters_.erase(id);
  for (auto& f : stops) f();
}

json DockerDaemon::inspect(const std::string& ref) const {
  Lock lock(mu_);
  const Container* c = find_or_null(ref);
  if (!c) throw ApiError(404, "No such container: " + ref);
  return inspect_json(*c, network_ids());
}

json DockerDaemon::list(bool all, const EventFilters& filters) const {
  static const std::vector<std::string> kKeys = {"label",    "name",    "status", "id",
                                                 "ancestor", "network", "health"};
  static const std::vector<std::string> kStatuses = {"created", "restarting", "running", "removing",
                                                     "paused",  "exited",     "dead"};
  for (const auto& [key, values] : filters) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw ApiError(400, "invalid filter '" + key + "'");
    }
    if (key == "status") {
      for (const auto& v : values) {
        if (std::find(kStatuses.begin(), kStatuses.end(), v) == kStatuses.end()) {
          throw ApiError(400, "invalid filter 'status=" + v + "'");
        }
      }
      all = true;
    }
  }
  Lock lock(mu_);
  std::vector<const Container*> rows;
  for (const auto& [id, c] : containers_) {
    if (!all && !c.running() && c.status != ContainerStatus::kRestarting) continue;
    bool keep = true;
    for (const auto& [key, values] : filters) {
      if (values.empty()) continue;
      bool any = false;
      for (const auto& v : values) {
        if (key == "label") {
          const auto eq = v.find('=');
          const auto it = c.labels.find(v.substr(0, eq));
          any = it != c.labels.end() && (eq == std::string::npos || it->second == v.substr(eq + 1));
          if (!any) break;  // every label filter must hold
          continue;
        }
        if (key == "name")
          any = any || c.name.find(v[0] == '/' ? v.substr(1) : v) != std::string::npos;
        if (key == "status") any = any || v == status_name(c.status);
        if (key == "id") any = any || c.id.rfind(v, 0) == 0;
        if (key == "ancestor") any = any || v == c.image;
        if (key == "health") any = any || v == (c.health.empty() ? "none" : c.health);
        if (key == "network") {
          for (const auto& [n, ep] : c.endpoints) any = any || n == v || ep.network_id == v;
        }
      }
      keep = keep && any;
    }
    if (keep) rows.push_back(&c);
  }
  std::sort(rows.begin(), rows.end(), [](const Container* a, const Container* b) {
    return a->created != b->created ? a->created > b->created : a->id < b->id;
  });
  json out = json::array();
  const auto now = wall();
  for (const auto* c : rows) out.push_back(summary_json(*c, now));
  return out;
}

std::vector<LogLine> DockerDaemon::logs(const std::string& ref, bool out, bool err) const {
  if (!out && !err) {
    throw ApiError(400, "Bad parameters: you must choose at least one stream");
  }
  Lock lock(mu_);
  const Container* c = find_or_null(ref);
  if (!c) throw ApiError(404, "No such container: " + ref);
  std::vector<LogLine> lines;
  if (c->local) lines = local_logs(*c, out, err);
  for (const auto& l : c->logs) {
    if ((l.stream == 1 && out) || (l.stream == 2 && err)) lines.push_back(l);
  }
  return lines;
}

}  // namespace faultline::fakes::docker
