#include "harness/stack/stack.h"

#include <algorithm>
#include <cstdlib>
#include <set>

namespace faultline::stack {

std::string_view to_string(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::postgres:
      return "postgres";
    case ServiceKind::redis:
      return "redis";
    case ServiceKind::kafka:
      return "kafka";
    case ServiceKind::docker:
      return "docker";
    case ServiceKind::gpu:
      return "gpu";
    case ServiceKind::container:
      return "container";
  }
  return "container";
}

std::optional<ServiceKind> parse_kind(std::string_view text) {
  for (auto kind : {ServiceKind::postgres, ServiceKind::redis, ServiceKind::kafka,
                    ServiceKind::docker, ServiceKind::gpu, ServiceKind::container}) {
    if (text == to_string(kind)) return kind;
  }
  return std::nullopt;
}

std::string_view to_string(Condition condition) {
  switch (condition) {
    case Condition::started:
      return "service_started";
    case Condition::healthy:
      return "service_healthy";
    case Condition::completed_successfully:
      return "service_completed_successfully";
  }
  return "service_started";
}

ServiceKind kind_of_image(std::string_view image) {
  // Drop the tag or digest, then look at the repository path (registry/org/name).
  std::string repo(image.substr(0, image.find('@')));
  if (auto slash = repo.rfind('/'), colon = repo.rfind(':');
      colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    repo.resize(colon);
  }
  std::transform(repo.begin(), repo.end(), repo.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string name =
      repo.substr(repo.rfind('/') == std::string::npos ? 0 : repo.rfind('/') + 1);
  auto starts = [&](std::string_view prefix) { return name.rfind(prefix, 0) == 0; };
  if (starts("postgres") || starts("timescaledb") || name == "postgis")
    return ServiceKind::postgres;
  if (starts("redis") && name != "redis-exporter" && name != "redis_exporter") {
    return ServiceKind::redis;
  }
  if (name == "cp-kafka" || name == "kafka" || starts("redpanda") || name == "cp-server") {
    return ServiceKind::kafka;
  }
  if (name == "docker" || name == "dind") return ServiceKind::docker;
  if (repo.find("nvidia/cuda") != std::string::npos || starts("cuda")) return ServiceKind::gpu;
  return ServiceKind::container;
}

std::string Service::setting(const std::string& key, const std::string& fallback) const {
  auto it = settings.find(key);
  return it == settings.end() ? fallback : it->second;
}

const Service* Stack::find(std::string_view name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<std::vector<const Service*>> Stack::start_levels() const {
  std::map<std::string, int> level;
  // validate() has ruled out cycles, so this settles within services.size() passes.
  for (std::size_t pass = 0; pass <= services.size(); ++pass) {
    bool changed = false;
    for (const auto& s : services) {
      int l = 0;
      for (const auto& d : s.depends_on) {
        if (find(d.service)) l = std::max(l, level[d.service] + 1);
      }
      if (!level.count(s.name) || level[s.name] != l) {
        level[s.name] = l;
        changed = true;
      }
    }
    if (!changed) break;
  }
  std::vector<std::vector<const Service*>> levels;
  for (const auto& s : services) {
    const auto l = static_cast<std::size_t>(level[s.name]);
    if (levels.size() <= l) levels.resize(l + 1);
    levels[l].push_back(&s);
  }
  return levels;
}

void validate(const Stack& stack) {
  if (stack.services.empty()) throw InputError({stack.file.string()}, "the stack has no services");
  for (const auto& s : stack.services) {
    for (const auto& d : s.depends_on) {
      if (!stack.find(d.service) && d.required) {
        throw InputError(d.where, "service '" + s.name + "' depends on '" + d.service +
                                      "', which is not defined (or not in an active profile)");
      }
    }
  }
  // Depth-first search for a cycle; report it as a path.
  enum class Mark { none, active, done };
  std::map<std::string, Mark> mark;
  std::vector<std::string> path;
  std::function<void(const Service&)> visit = [&](const Service& s) {
    mark[s.name] = Mark::active;
    path.push_back(s.name);
    for (const auto& d : s.depends_on) {
      const Service* next = stack.find(d.service);
      if (!next) continue;
      if (mark[next->name] == Mark::active) {
        std::string cycle;
        auto from = std::find(path.begin(), path.end(), next->name);
        for (auto it = from; it != path.end(); ++it) cycle += *it + " -> ";
        throw InputError(d.where, "dependency cycle: " + cycle + next->name);
      }
      if (mark[next->name] == Mark::none) visit(*next);
    }
    path.pop_back();
    mark[s.name] = Mark::done;
  };
  for (const auto& s : stack.services) {
    if (mark[s.name] == Mark::none) visit(s);
  }
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

bool chaos_allowed(const Service& service, std::string_view backend) {
  switch (service.chaos) {
    case ChaosPolicy::allowed:
      return true;
    case ChaosPolicy::forbidden:
      return false;
    case ChaosPolicy::unset:
      break;
  }
  return backend != "external";
}

}  // namespace faultline::stack
