// DockerDaemon: construction, lookup by id/prefix/name, system info, images, events, capacity.
#include "fakes/docker/daemon.h"

#include <cstdio>

#include "fakes/docker/api_types.h"
#include "fakes/docker/process_backing.h"

namespace faultline::fakes::docker {

using nlohmann::json;

namespace {

constexpr const char* kEngineVersion = "27.5.1";

std::uint64_t splitmix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string image_with_tag(const std::string& full) {
  std::string ref = full;
  for (const char* registry : {"docker.io/", "index.docker.io/"}) {
    if (ref.rfind(registry, 0) == 0) ref = ref.substr(std::string(registry).size());
  }
  if (ref.rfind("library/", 0) == 0) ref = ref.substr(8);
  const auto slash = ref.rfind('/');
  const auto colon = ref.rfind(':');
  if (ref.find('@') != std::string::npos) return ref;
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    return ref + ":latest";
  }
  return ref;
}

}  // namespace

std::string normalized_image(const std::string& ref) {
  return image_with_tag(ref);
}

DockerDaemon::DockerDaemon(Clock& clock, const FakeDockerOptions& options)
    : clock_(clock), options_(options) {
  const auto min = ApiVersion::parse(options.min_api_version);
  const auto max = ApiVersion::parse(options.max_api_version);
  if (!min)
    throw Error("fake docker: min_api_version '" + options.min_api_version + "' is not X.Y");
  if (!max)
    throw Error("fake docker: max_api_version '" + options.max_api_version + "' is not X.Y");
  if (*min > *max) throw Error("fake docker: min_api_version is above max_api_version");
  if (options.memory_bytes < 0) throw Error("fake docker: memory_bytes must be >= 0");
  if (options.cpus < 0) throw Error("fake docker: cpus must be >= 0");
  min_ = *min;
  max_ = *max;
  if (options.process_backing)
    backing_ = std::make_unique<ProcessBacking>(*options.process_backing);
  for (const auto& image : options.images) images_.insert(image_with_tag(image));
  const char* predefined[][2] = {{"bridge", "bridge"}, {"host", "host"}, {"none", "null"}};
  int index = 0;
  for (const auto& [name, driver] : predefined) {
    Network n;
    n.id = new_id();
    n.name = name;
    n.driver = driver;
    n.predefined = true;
    n.created = wall();
    if (std::string(name) == "bridge") {
      n.subnet = "172.17.0.0/16";
      n.gateway = "172.17.0.1";
      n.subnet_index = 0;
    }
    networks_.emplace(n.id, n);
    ++index;
  }
}

DockerDaemon::~DockerDaemon() {
  // Processes first, without the lock: their watchers' callbacks find the daemon gone.
  backing_.reset();
  Lock lock(mu_);
  for (auto& [id, c] : containers_) cancel_timers(c);
}

std::string DockerDaemon::new_id() {
  std::uint64_t x = ++id_counter_ * 0x2545F4914F6CDD1DULL;
  char buf[65];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf + i * 16, 17, "%016llx", static_cast<unsigned long long>(splitmix(x)));
  }
  return std::string(buf, 64);
}

const Container* DockerDaemon::find_or_null(const std::string& ref) const {
  if (ref.empty()) return nullptr;
  const auto exact = containers_.find(ref);
  if (exact != containers_.end()) return &exact->second;
  const std::string name = ref[0] == '/' ? ref.substr(1) : ref;
  for (const auto& [id, c] : containers_) {
    if (c.name == name) return &c;
  }
  const Container* found = nullptr;
  for (const auto& [id, c] : containers_) {
    if (id.rfind(ref, 0) == 0) {
      if (found) throw ApiError(400, "multiple IDs found with provided prefix: " + ref);
      found = &c;
    }
  }
  return found;
}

Container& DockerDaemon::find(const std::string& ref) {
  const Container* c = find_or_null(ref);
  if (!c) throw ApiError(404, "No such container: " + ref);
  return const_cast<Container&>(*c);
}

const Network* DockerDaemon::find_network_or_null(const std::string& ref) const {
  if (ref.empty()) return nullptr;
  const auto exact = networks_.find(ref);
  if (exact != networks_.end()) return &exact->second;
  for (const auto& [id, n] : networks_) {
    if (n.name == ref) return &n;
  }
  const Network* found = nullptr;
  for (const auto& [id, n] : networks_) {
    if (id.rfind(ref, 0) == 0) {
      if (found) throw ApiError(400, "network " + ref + " is ambiguous");
      found = &n;
    }
  }
  return found;
}

Network& DockerDaemon::find_network(const std::string& ref) {
  const Network* n = find_network_or_null(ref);
  if (!n) throw ApiError(404, "network " + ref + " not found");
  return const_cast<Network&>(*n);
}

std::map<std::string, std::string> DockerDaemon::network_ids() const {
  std::map<std::string, std::string> out;
  for (const auto& [id, n] : networks_) out[n.name] = id;
  return out;
}

json DockerDaemon::version_json() const {
  return {{"Platform", {{"Name", "faultline fake docker"}}},
          {"Components",
           {{{"Name", "Engine"},
             {"Version", kEngineVersion},
             {"Details",
              {{"ApiVersion", max_.str()},
               {"MinAPIVersion", min_.str()},
               {"Os", "linux"},
               {"Arch", "amd64"},
               {"Experimental", "false"}}}}}},
          {"Version", kEngineVersion},
          {"ApiVersion", max_.str()},
          {"MinAPIVersion", min_.str()},
          {"GitCommit", "faultline"},
          {"GoVersion", "go1.22.0"},
          {"Os", "linux"},
          {"Arch", "amd64"},
          {"KernelVersion", "faultline"},
          {"BuildTime", "2025-01-01T00:00:00.000000000+00:00"}};
}

json DockerDaemon::info_json() const {
  Lock lock(mu_);
  int running = 0, paused = 0, stopped = 0;
  for (const auto& [id, c] : containers_) {
    if (c.status == ContainerStatus::kPaused) {
      ++paused;
    } else if (c.running()) {
      ++running;
    } else {
      ++stopped;
    }
  }
  return {{"ID", "FAKE:DOCKER:0000"},
          {"Containers", containers_.size()},
          {"ContainersRunning", running},
          {"ContainersPaused", paused},
          {"ContainersStopped", stopped},
          {"Images", images_.size()},
          {"Driver", "overlay2"},
          {"DriverStatus", json::array()},
          {"MemoryLimit", true},
          {"SwapLimit", false},
          {"CpuCfsPeriod", true},
          {"CpuCfsQuota", true},
          {"OomKillDisable", false},
          {"NGoroutines", 1},
          {"SystemTime", rfc3339(clock_.wall_now())},
          {"LoggingDriver", "json-file"},
          {"CgroupDriver", "systemd"},
          {"CgroupVersion", "2"},
          {"NEventsListener", events_.subscribers()},
          {"KernelVersion", "faultline"},
          {"OperatingSystem", "faultline fake docker"},
          {"OSVersion", ""},
          {"OSType", "linux"},
          {"Architecture", "x86_64"},
          {"IndexServerAddress", "https://index.docker.io/v1/"},
          {"RegistryConfig", {{"IndexConfigs", json::object()}}},
          {"NCPU", options_.cpus},
          {"MemTotal", options_.memory_bytes},
          {"DockerRootDir", "/var/lib/docker"},
          {"Name", options_.name},
          {"Labels", json::array()},
          {"ExperimentalBuild", false},
          {"ServerVersion", kEngineVersion},
          {"Runtimes", {{"runc", {{"path", "runc"}}}}},
          {"DefaultRuntime", "runc"},
          {"Swarm",
           {{"NodeID", ""},
            {"NodeAddr", ""},
            {"LocalNodeState", "inactive"},
            {"ControlAvailable", false},
            {"Error", ""},
            {"RemoteManagers", nullptr}}},
          {"LiveRestoreEnabled", false},
          {"Isolation", ""},
          {"InitBinary", "docker-init"},
          {"SecurityOptions", json::array()},
          {"Warnings", json::array()}};
}

// --- images ---

bool DockerDaemon::image_present(const std::string& ref) const {
  if (options_.images.empty()) return true;
  return images_.count(image_with_tag(ref)) > 0;
}

void DockerDaemon::pull(const std::string& image, const std::string& tag) {
  Lock lock(mu_);
  const std::string ref = image_with_tag(tag.empty() ? image : image + ":" + tag);
  if (!options_.images.empty() && !options_.pullable.empty()) {
    bool ok = false;
    for (const auto& p : options_.pullable) ok = ok || image_with_tag(p) == ref;
    if (!ok) {
      throw ApiError(404, "pull access denied for " + image +
                              ", repository does not exist or may require 'docker login'");
    }
  }
  if (!options_.images.empty()) images_.insert(ref);
  events_.emit("image", "pull", ref, {{"name", ref}}, wall());
}

json DockerDaemon::list_images() const {
  Lock lock(mu_);
  json out = json::array();
  for (const auto& ref : images_) {
    out.push_back({{"Id", "sha256:" + std::string(64, '0')},
                   {"RepoTags", {ref}},
                   {"RepoDigests", json::array()},
                   {"Created", 0},
                   {"Size", 0},
                   {"Labels", json::object()},
                   {"Containers", -1}});
  }
  return out;
}

json DockerDaemon::inspect_image(const std::string& ref) const {
  Lock lock(mu_);
  if (!image_present(ref)) throw ApiError(404, "No such image: " + image_with_tag(ref));
  return {{"Id", "sha256:" + std::string(64, '0')},
          {"RepoTags", {image_with_tag(ref)}},
          {"Os", "linux"},
          {"Architecture", "amd64"},
          {"Config", {{"Cmd", nullptr}, {"Env", json::array()}, {"Labels", nullptr}}},
          {"Size", 0}};
}

// --- events ---

std::int64_t DockerDaemon::wall_now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.wall_now().time_since_epoch())
      .count();
}

std::vector<json> DockerDaemon::event_history(std::int64_t since_ns, std::int64_t until_ns,
                                              const EventFilters& filters) const {
  Lock lock(mu_);
  return events_.history(since_ns, until_ns, filters);
}

std::uint64_t DockerDaemon::subscribe(EventFilters filters, EventLog::Subscriber fn) {
  Lock lock(mu_);
  return events_.subscribe(std::move(filters), std::move(fn));
}

void DockerDaemon::unsubscribe(std::uint64_t id) {
  Lock lock(mu_);
  events_.unsubscribe(id);
}

void DockerDaemon::emit_container(const Container& c, const std::string& action,
                                  std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> attrs = c.labels;
  attrs["image"] = c.image;
  attrs["name"] = c.name;
  for (auto& [k, v] : extra) attrs[k] = v;
  events_.emit("container", action, c.id, std::move(attrs), wall());
}

void DockerDaemon::emit_network(const Network& n, const std::string& action,
                                const std::string& container) {
  std::map<std::string, std::string> attrs{{"name", n.name}, {"type", n.driver}};
  if (!container.empty()) attrs["container"] = container;
  events_.emit("network", action, n.id, std::move(attrs), wall());
}

// --- capacity ---

void DockerDaemon::set_capacity(std::int64_t memory_bytes, int cpus) {
  if (memory_bytes < 0 || cpus < 0) throw Error("capacity: memory_bytes and cpus must be >= 0");
  Lock lock(mu_);
  options_.memory_bytes = memory_bytes;
  options_.cpus = cpus;
}

void DockerDaemon::check_capacity(const Container& c) const {
  std::int64_t memory = c.memory, nano_cpus = c.nano_cpus;
  for (const auto& [id, other] : containers_) {
    if (id == c.id || !other.running()) continue;
    memory += other.memory;
    nano_cpus += other.nano_cpus;
  }
  auto mib = [](std::int64_t b) { return std::to_string(b >> 20) + "MiB"; };
  if (options_.memory_bytes > 0 && c.memory > 0 && memory > options_.memory_bytes) {
    throw ApiError(500, "failed to create task for container: insufficient memory: container " +
                            c.name + " asks for " + mib(c.memory) + ", " +
                            mib(options_.memory_bytes - (memory - c.memory)) + " of " +
                            mib(options_.memory_bytes) + " free (fake docker capacity)");
  }
  const std::int64_t cpu_cap = static_cast<std::int64_t>(options_.cpus) * 1000000000LL;
  if (cpu_cap > 0 && c.nano_cpus > 0 && nano_cpus > cpu_cap) {
    throw ApiError(500, "failed to create task for container: insufficient CPUs: container " +
                            c.name + " asks for " + std::to_string(c.nano_cpus / 1e9).substr(0, 4) +
                            " CPUs beyond the " + std::to_string(options_.cpus) +
                            " CPUs free (fake docker capacity)");
  }
}

// --- state for tests and controls ---

ContainerState DockerDaemon::state_of(const Container& c) const {
  ContainerState s;
  s.id = c.id;
  s.name = c.name;
  s.status = status_name(c.status);
  s.health = c.health;
  s.exit_code = c.exit_code;
  s.oom_killed = c.oom_killed;
  s.restart_count = c.restart_count;
  s.pid = c.pid;
  for (const auto& [name, ep] : c.endpoints) s.networks[name] = ep.ip;
  return s;
}

std::optional<ContainerState> DockerDaemon::state(const std::string& ref) const {
  Lock lock(mu_);
  const Container* c = find_or_null(ref);
  if (!c) return std::nullopt;
  return state_of(*c);
}

std::vector<ContainerState> DockerDaemon::states() const {
  Lock lock(mu_);
  std::vector<ContainerState> out;
  for (const auto& [id, c] : containers_) out.push_back(state_of(c));
  return out;
}

}  // namespace faultline::fakes::docker
