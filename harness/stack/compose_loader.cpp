// The docker-compose.yml loader: the Compose Specification's service keys that decide how a stack
// comes up (image, command, environment, depends_on, healthcheck, restart, deploy.resources,
// ports, networks, profiles, volumes) are read into the Stack; the keys that only matter to a
// container engine are accepted and left to the docker backend; anything else is an error with
// the nearest valid key.
#include <fstream>
#include <sstream>

#include "harness/core/yaml_reader.h"
#include "harness/stack/stack.h"
#include "harness/stack/values.h"
#include "harness/stack/yaml_values.h"

namespace faultline::stack {
namespace {

const std::vector<std::string> kTopKeys = {"version", "name",    "services", "networks",
                                           "volumes", "secrets", "configs",  "include"};
const std::vector<std::string> kServiceKeys = {"image",
                                               "build",
                                               "command",
                                               "entrypoint",
                                               "environment",
                                               "env_file",
                                               "depends_on",
                                               "healthcheck",
                                               "restart",
                                               "deploy",
                                               "ports",
                                               "expose",
                                               "networks",
                                               "profiles",
                                               "volumes",
                                               "container_name",
                                               "hostname",
                                               "labels",
                                               "logging",
                                               "ulimits",
                                               "working_dir",
                                               "user",
                                               "mem_limit",
                                               "cpus",
                                               "stop_grace_period",
                                               "stop_signal",
                                               "extra_hosts",
                                               "secrets",
                                               "configs",
                                               "privileged",
                                               "cap_add",
                                               "cap_drop",
                                               "tmpfs",
                                               "init",
                                               "tty",
                                               "stdin_open",
                                               "runtime",
                                               "shm_size",
                                               "sysctls",
                                               "devices",
                                               "dns",
                                               "links",
                                               "network_mode",
                                               "pid",
                                               "platform",
                                               "pull_policy",
                                               "read_only",
                                               "security_opt",
                                               "domainname",
                                               "gpus",
                                               "mem_reservation",
                                               "memswap_limit",
                                               "cpu_shares",
                                               "oom_score_adj"};
const std::vector<std::string> kDeployKeys = {"resources",     "restart_policy",  "replicas",
                                              "mode",          "labels",          "placement",
                                              "update_config", "rollback_config", "endpoint_mode"};
const std::vector<std::string> kResourcesKeys = {"limits", "reservations"};
const std::vector<std::string> kLimitsKeys = {"cpus", "memory", "pids", "devices"};

class ComposeLoader : public ValueReader {
 public:
  ComposeLoader(std::string file, const LoadOptions& options)
      : ValueReader(std::move(file), options) {}

  Stack load(std::string_view text) {
    const YAML::Node root = parse(text, "compose file");
    check_keys(root, kTopKeys, "the compose file", /*extensions=*/true);
    const YAML::Node services = root["services"];
    if (!services || !services.IsMap() || services.size() == 0) {
      fail(services ? services : root, "'services' must be a non-empty mapping");
    }
    Stack stack;
    stack.file = file();
    stack.name = root["name"] ? value(root["name"], "'name'") : "compose";
    if (const auto nets = root["networks"]; nets && nets.IsMap()) {
      for (const auto& kv : nets) stack.networks.push_back(key(kv.first));
    }
    const std::vector<std::string> active = active_profiles();
    for (const auto& kv : services) {
      Service s = service(key(kv.first), kv.second);
      if (!s.profiles.empty() &&
          std::none_of(s.profiles.begin(), s.profiles.end(), [&](const std::string& p) {
            return std::find(active.begin(), active.end(), p) != active.end();
          })) {
        continue;  // not in an active profile: compose does not start it
      }
      stack.services.push_back(std::move(s));
    }
    stack.warnings = take_warnings();
    validate(stack);
    return stack;
  }

 private:
  std::vector<std::string> active_profiles() const {
    if (!options().profiles.empty()) return options().profiles;
    std::vector<std::string> out;
    if (auto env = options().env("COMPOSE_PROFILES")) {
      std::stringstream in(*env);
      for (std::string p; std::getline(in, p, ',');) {
        if (!p.empty()) out.push_back(p);
      }
    }
    return out;
  }

  Service service(const std::string& name, const YAML::Node& node) {
    check_keys(node, kServiceKeys, "service '" + name + "'", /*extensions=*/true);
    Service s;
    s.name = name;
    s.where = at(node);
    if (node["image"]) s.image = value(node["image"], "'image'");
    if (!node["image"] && !node["build"])
      fail(node, "service '" + name + "' has neither image nor build");
    s.kind = s.image.empty() ? ServiceKind::container : kind_of_image(s.image);
    if (node["command"]) s.command = command(node["command"]);
    if (node["environment"]) s.environment = environment(node["environment"]);
    if (node["depends_on"]) s.depends_on = depends_on(node["depends_on"]);
    if (node["healthcheck"]) s.healthcheck = healthcheck(node["healthcheck"]);
    if (const auto w = node["x-faultline-wait"]) s.wait = wait(w);
    if (node["restart"]) s.restart = restart(node["restart"]);
    s.limits = limits(node);
    if (const auto ports = node["ports"]; ports) {
      if (!ports.IsSequence()) fail(ports, "'ports' must be a list");
      for (const auto& p : ports) s.ports.push_back(port(p));
    }
    if (const auto nets = node["networks"]; nets) {
      if (nets.IsMap()) {
        for (const auto& kv : nets) s.networks.push_back(key(kv.first));
      } else {
        s.networks = strings(node, "networks");
      }
    }
    s.profiles = strings(node, "profiles");
    if (const auto vols = node["volumes"]; vols) {
      if (!vols.IsSequence()) fail(vols, "'volumes' must be a list");
      for (const auto& v : vols) {
        if (v.IsMap() && !v["source"] && !v["target"]) {
          fail(v, "a volume in long form needs 'source' or 'target'");
        }
        s.volumes.push_back(v.IsMap() ? value(v["source"] ? v["source"] : v["target"], "a volume")
                                      : value(v, "a volume"));
      }
    }
    s.persistent = !s.volumes.empty();
    derive_settings(s);
    return s;
  }

  Limits limits(const YAML::Node& node) {
    Limits l;
    if (node["mem_limit"]) l.memory_bytes = size(node["mem_limit"], "'mem_limit'");
    if (node["cpus"]) l.cpus = number(node["cpus"], "'cpus'");
    const YAML::Node deploy = node["deploy"];
    if (!deploy) return l;
    check_keys(deploy, kDeployKeys, "'deploy'", true);
    if (const auto res = deploy["resources"]) {
      check_keys(res, kResourcesKeys, "'deploy.resources'");
      if (const auto lim = res["limits"]) {
        check_keys(lim, kLimitsKeys, "'deploy.resources.limits'");
        if (lim["memory"]) l.memory_bytes = size(lim["memory"], "'memory'");
        if (lim["cpus"]) l.cpus = number(lim["cpus"], "'cpus'");
      }
    }
    return l;
  }

  // Kind-specific settings a backend needs, from what the compose file says.
  void derive_settings(Service& s) const {
    auto env = [&](const char* k) {
      auto it = s.environment.find(k);
      return it == s.environment.end() ? std::string() : it->second;
    };
    if (s.kind == ServiceKind::postgres) {
      if (auto db = env("POSTGRES_DB"); !db.empty()) s.settings["database"] = db;
      if (auto user = env("POSTGRES_USER"); !user.empty()) s.settings["user"] = user;
    }
    if (s.kind == ServiceKind::redis) {
      for (std::size_t i = 0; i + 1 < s.command.size(); ++i) {
        if (s.command[i] == "--maxmemory") s.settings["maxmemory"] = s.command[i + 1];
        if (s.command[i] == "--maxmemory-policy") s.settings["maxmemory-policy"] = s.command[i + 1];
      }
    }
    if (s.kind == ServiceKind::kafka) {
      if (auto id = env("KAFKA_BROKER_ID"); !id.empty()) s.settings["broker-id"] = id;
    }
  }
};

}  // namespace

Stack parse_compose(std::string_view text, const std::string& file, const LoadOptions& options) {
  return ComposeLoader(file, options).load(text);
}

Stack load_compose(const std::filesystem::path& file, const LoadOptions& options) {
  return parse_compose(read_input_file(file, "compose file"), file.string(), options);
}

}  // namespace faultline::stack
