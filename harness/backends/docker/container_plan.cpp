#include "harness/backends/docker/container_plan.h"

#include <cmath>

#include "harness/core/error.h"

namespace faultline::backends::docker {
namespace {

using nlohmann::json;

std::int64_t nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// "postgres_data:/var/lib/postgresql/data[:ro]" -> the named volume, else "" (a bind mount).
std::string volume_name(const std::string& spec) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos || colon == 0) return "";
  const std::string source = spec.substr(0, colon);
  if (source.find('/') != std::string::npos || source[0] == '.' || source[0] == '~') return "";
  return source;
}

}  // namespace

std::string default_image(stack::ServiceKind kind) {
  switch (kind) {
    case stack::ServiceKind::postgres:
      return "postgres:15";
    case stack::ServiceKind::redis:
      return "redis:7-alpine";
    case stack::ServiceKind::kafka:
      return "apache/kafka:3.7.0";
    default:
      return "";
  }
}

json restart_policy(const stack::RestartPolicy& policy) {
  using Mode = stack::RestartPolicy::Mode;
  switch (policy.mode) {
    case Mode::always:
      return {{"Name", "always"}, {"MaximumRetryCount", 0}};
    case Mode::unless_stopped:
      return {{"Name", "unless-stopped"}, {"MaximumRetryCount", 0}};
    case Mode::on_failure:
      return {{"Name", "on-failure"}, {"MaximumRetryCount", policy.max_retries}};
    case Mode::no:
      break;
  }
  return {{"Name", "no"}, {"MaximumRetryCount", 0}};
}

ContainerPlan plan_container(const stack::Service& s, const std::string& project,
                             bool engine_restarts, const stack::EnvLookup& env) {
  ContainerPlan plan;
  plan.name = project + "-" + s.name;
  const std::string image = s.image.empty() ? default_image(s.kind) : s.image;
  if (image.empty()) throw UsageError("service '" + s.name + "' names no image");
  json body = {{"Image", image}};

  std::vector<std::string> cmd = s.command;
  if (cmd.empty() && s.kind == stack::ServiceKind::redis) {
    cmd = {"redis-server"};
    for (const char* key : {"maxmemory", "maxmemory-policy"}) {
      if (auto v = s.setting(key); !v.empty()) cmd.insert(cmd.end(), {"--" + std::string(key), v});
    }
    if (cmd.size() == 1) cmd.clear();
  }
  if (!cmd.empty()) body["Cmd"] = cmd;

  auto environment = s.environment;
  if (s.kind == stack::ServiceKind::postgres) {
    if (auto db = s.setting("database"); !db.empty()) environment.emplace("POSTGRES_DB", db);
    if (auto user = s.setting("user"); !user.empty()) environment.emplace("POSTGRES_USER", user);
    if (auto var = s.setting("password-env"); !var.empty()) {
      if (auto secret = env(var)) environment.emplace("POSTGRES_PASSWORD", *secret);
    }
    // The postgres image refuses to start without a password unless told to trust.
    if (!environment.count("POSTGRES_PASSWORD") || environment["POSTGRES_PASSWORD"].empty()) {
      environment.erase("POSTGRES_PASSWORD");
      environment.emplace("POSTGRES_HOST_AUTH_METHOD", "trust");
    }
  }
  json env_list = json::array();
  for (const auto& [k, v] : environment) env_list.push_back(k + "=" + v);
  body["Env"] = env_list;

  body["Labels"] = {{"faultline.project", project},
                    {"faultline.service", s.name},
                    {"faultline.kind", std::string(stack::to_string(s.kind))},
                    {"com.docker.compose.project", project},
                    {"com.docker.compose.service", s.name}};

  if (s.healthcheck) {
    const auto& h = *s.healthcheck;
    if (h.disabled) {
      body["Healthcheck"] = {{"Test", json::array({"NONE"})}};
    } else if (!h.test.empty()) {
      body["Healthcheck"] = {{"Test", h.test},
                             {"Interval", nanos(h.interval)},
                             {"Timeout", nanos(h.timeout)},
                             {"StartPeriod", nanos(h.start_period)},
                             {"Retries", h.retries}};
    }
  }

  json host = {{"RestartPolicy", engine_restarts ? restart_policy(s.restart)
                                                 : restart_policy(stack::RestartPolicy{})}};
  if (s.limits.memory_bytes) host["Memory"] = static_cast<std::int64_t>(*s.limits.memory_bytes);
  if (s.limits.cpus)
    host["NanoCpus"] = static_cast<std::int64_t>(std::llround(*s.limits.cpus * 1e9));

  json exposed = json::object();
  json bindings = json::object();
  for (const auto& p : s.ports) {
    const std::string key = std::to_string(p.container_port) + "/" + p.protocol;
    exposed[key] = json::object();
    // Publish on loopback only; an unpublished port gets an ephemeral host port.
    bindings[key].push_back(
        {{"HostIp", p.host_ip.empty() ? "127.0.0.1" : p.host_ip},
         {"HostPort", p.host_port ? std::to_string(p.host_port) : std::string()}});
    if (!plan.container_port && p.protocol == "tcp") plan.container_port = p.container_port;
  }
  if (!exposed.empty()) {
    body["ExposedPorts"] = exposed;
    host["PortBindings"] = bindings;
  }

  json binds = json::array();
  for (const auto& v : s.volumes) {
    if (const std::string name = volume_name(v); !name.empty()) {
      plan.volumes.push_back(project + "_" + name);
      binds.push_back(project + "_" + v);
    } else if (!v.empty() && v[0] == '/') {
      binds.push_back(v);  // an absolute bind mount; relative ones need the compose file's folder
    }
  }
  if (!binds.empty()) host["Binds"] = binds;

  for (const auto& n : s.networks) plan.networks.push_back(project + "_" + n);
  if (plan.networks.empty()) plan.networks.push_back(project + "_default");
  host["NetworkMode"] = plan.networks.front();
  body["HostConfig"] = host;
  // The service's name resolves on every network it joins, as compose arranges.
  json endpoints = json::object();
  endpoints[plan.networks.front()] = {{"Aliases", json::array({s.name})}};
  body["NetworkingConfig"] = {{"EndpointsConfig", endpoints}};
  plan.body = std::move(body);
  return plan;
}

}  // namespace faultline::backends::docker
