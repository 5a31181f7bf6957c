// The stack file loader: faultline's own description of a stack (fixtures/stacks/*.yaml; the
// schema is documented in fixtures/stacks/README.md). It shares value types with compose, names
// each service's kind explicitly, and validates kind-specific settings.
#include <algorithm>

#include "harness/core/text.h"
#include "harness/stack/stack.h"
#include "harness/stack/values.h"
#include "harness/stack/yaml_values.h"

namespace faultline::stack {
namespace {

const std::vector<std::string> kTopKeys = {"stack", "description", "services"};
const std::vector<std::string> kServiceKeys = {
    "kind",        "image",    "command", "environment", "depends_on",
    "healthcheck", "restart",  "limits",  "ports",       "networks",
    "persistent",  "settings", "chaos",   "external",    "wait"};
const std::vector<std::string> kExternalKeys = {"host", "port", "url"};
const std::vector<std::string> kLimitKeys = {"cpus", "memory"};

// The settings each kind understands, and how each is checked.
enum class Type { text, size, count, policy };
const std::map<ServiceKind, std::map<std::string, Type>> kSettings = {
    {ServiceKind::postgres,
     {{"database", Type::text},
      {"user", Type::text},
      {"password-env", Type::text},
      {"max-connections", Type::count}}},
    {ServiceKind::redis, {{"maxmemory", Type::size}, {"maxmemory-policy", Type::policy}}},
    {ServiceKind::kafka,
     {{"brokers", Type::count}, {"replication-factor", Type::count}, {"partitions", Type::count}}},
    {ServiceKind::docker, {{"memory", Type::size}, {"cpus", Type::count}}},
    {ServiceKind::gpu, {{"devices", Type::count}, {"memory", Type::size}}},
    {ServiceKind::container, {}},
};
const std::vector<std::string> kPolicies = {"noeviction",   "allkeys-lru",    "allkeys-random",
                                            "volatile-lru", "volatile-ttl",   "allkeys-lfu",
                                            "volatile-lfu", "volatile-random"};

class StackFileLoader : public ValueReader {
 public:
  StackFileLoader(std::string file, const LoadOptions& options)
      : ValueReader(std::move(file), options) {}

  Stack load(std::string_view text) {
    const YAML::Node root = parse(text, "stack file");
    check_keys(root, kTopKeys, "the stack file");
    Stack stack;
    stack.file = file();
    stack.name = scalar(root, "stack", true, "the stack file");
    const YAML::Node services = root["services"];
    if (!services || !services.IsMap() || services.size() == 0) {
      fail(services ? services : root, "'services' must be a non-empty mapping");
    }
    for (const auto& kv : services) stack.services.push_back(service(key(kv.first), kv.second));
    stack.warnings = take_warnings();
    validate(stack);
    return stack;
  }

 private:
  Service service(const std::string& name, const YAML::Node& node) {
    const std::string what = "service '" + name + "'";
    check_keys(node, kServiceKeys, what);
    Service s;
    s.name = name;
    s.where = at(node);
    if (node["image"]) s.image = value(node["image"], "'image'");
    if (node["kind"]) {
      const std::string kind = value(node["kind"], "'kind'");
      auto parsed = parse_kind(kind);
      if (!parsed) {
        fail(node["kind"],
             "unknown kind '" + kind + "'" +
                 did_you_mean(kind, {"postgres", "redis", "kafka", "docker", "gpu", "container"}) +
                 " (expected postgres, redis, kafka, docker, gpu or container)");
      }
      s.kind = *parsed;
    } else if (!s.image.empty()) {
      s.kind = kind_of_image(s.image);
    } else {
      fail(node, what + " needs a 'kind' or an 'image'");
    }
    if (node["command"]) s.command = command(node["command"]);
    if (node["environment"]) s.environment = environment(node["environment"]);
    if (node["depends_on"]) s.depends_on = depends_on(node["depends_on"]);
    if (node["healthcheck"]) s.healthcheck = healthcheck(node["healthcheck"]);
    if (node["restart"]) s.restart = restart(node["restart"]);
    if (const auto lim = node["limits"]) {
      check_keys(lim, kLimitKeys, "'limits'");
      if (lim["cpus"]) s.limits.cpus = number(lim["cpus"], "'cpus'");
      if (lim["memory"]) s.limits.memory_bytes = size(lim["memory"], "'memory'");
    }
    if (const auto ports = node["ports"]) {
      for (const auto& p : ports) s.ports.push_back(port(p));
    }
    s.networks = strings(node, "networks");
    if (node["persistent"]) s.persistent = boolean(node["persistent"], "'persistent'");
    if (const auto settings = node["settings"]) read_settings(s, settings);
    if (const auto chaos = node["chaos"]) {
      const std::string policy = value(chaos, "'chaos'");
      if (policy == "allowed") {
        s.chaos = ChaosPolicy::allowed;
      } else if (policy == "forbidden") {
        s.chaos = ChaosPolicy::forbidden;
      } else {
        fail(chaos, "'chaos' must be allowed or forbidden, not '" + policy + "'" +
                        did_you_mean(policy, {"allowed", "forbidden"}));
      }
    }
    if (const auto ext = node["external"]) s.external = external(ext);
    if (const auto w = node["wait"]) s.wait = wait(w);
    return s;
  }

  ExternalEndpoint external(const YAML::Node& node) {
    if (!node.IsMap()) fail(node, "'external' must be a mapping {host, port, url}");
    check_keys(node, kExternalKeys, "'external'");
    ExternalEndpoint e;
    if (node["host"]) e.host = value(node["host"], "'host'");
    if (node["port"]) e.port = integer(node["port"], "'port'", 1, 65535);
    if (node["url"]) e.url = value(node["url"], "'url'");
    if (e.host.empty() || e.port == 0) fail(node, "'external' needs a host and a port");
    return e;
  }

  void read_settings(Service& s, const YAML::Node& node) {
    const auto& known = kSettings.at(s.kind);
    std::vector<std::string> names;
    for (const auto& [k, t] : known) names.push_back(k);
    check_keys(node, names, "the settings of a " + std::string(to_string(s.kind)) + " service");
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();  // check_keys: a scalar
      switch (known.at(key)) {
        case Type::text:
          s.settings[key] = value(kv.second, "'" + key + "'");
          break;
        case Type::size:
          size(kv.second, "'" + key + "'");
          s.settings[key] = value(kv.second, "'" + key + "'");
          break;
        case Type::count:
          s.settings[key] = std::to_string(integer(kv.second, "'" + key + "'", 1, 100000));
          break;
        case Type::policy: {
          const std::string policy = value(kv.second, "'" + key + "'");
          if (std::find(kPolicies.begin(), kPolicies.end(), policy) == kPolicies.end()) {
            fail(kv.second,
                 "unknown maxmemory-policy '" + policy + "'" + did_you_mean(policy, kPolicies));
          }
          s.settings[key] = policy;
          break;
        }
      }
    }
    if (s.kind == ServiceKind::kafka) {
      const int brokers = std::stoi(s.setting("brokers", "1"));
      const int rf = std::stoi(s.setting("replication-factor", "1"));
      if (rf > brokers) {
        fail(node, "replication-factor " + std::to_string(rf) + " is more than the " +
                       std::to_string(brokers) + " broker(s)");
      }
    }
  }
};

}  // namespace

Stack parse_stack_file(std::string_view text, const std::string& file, const LoadOptions& options) {
  return StackFileLoader(file, options).load(text);
}

Stack load_stack_file(const std::filesystem::path& file, const LoadOptions& options) {
  return parse_stack_file(read_input_file(file, "stack file"), file.string(), options);
}

}  // namespace faultline::stack
