// Container -> dockerd's JSON: GET /containers/{id}/json (inspect) and GET /containers/json rows.
#include <ctime>

#include "fakes/docker/container.h"

namespace faultline::fakes::docker {

using nlohmann::json;
using std::chrono::system_clock;

const char* status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreated:
      return "created";
    case ContainerStatus::kRunning:
      return "running";
    case ContainerStatus::kPaused:
      return "paused";
    case ContainerStatus::kRestarting:
      return "restarting";
    case ContainerStatus::kRemoving:
      return "removing";
    case ContainerStatus::kExited:
      return "exited";
    case ContainerStatus::kDead:
      return "dead";
  }
  return "dead";
}

std::string rfc3339(system_clock::time_point t) {
  if (t == system_clock::time_point{}) return "0001-01-01T00:00:00Z";
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char head[32];
  std::strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lldZ", static_cast<long long>(ns % 1000000000));
  return std::string(head) + frac;
}

namespace {

// dockerd uses go-units HumanDuration.
std::string human_duration(std::chrono::nanoseconds d) {
  const long long s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return std::to_string(s) + " seconds";
  const long long m = s / 60;
  if (m == 1) return "About a minute";
  if (m < 60) return std::to_string(m) + " minutes";
  const long long h = m / 60;
  if (h == 1) return "About an hour";
  if (h < 48) return std::to_string(h) + " hours";
  return std::to_string(h / 24) + " days";
}

json health_json(const Container& c) {
  json log = json::array();
  for (const auto& e : c.health_log) {
    log.push_back({{"Start", rfc3339(e.start)},
                   {"End", rfc3339(e.end)},
                   {"ExitCode", e.exit_code},
                   {"Output", e.output}});
  }
  return {{"Status", c.health}, {"FailingStreak", c.failing_streak}, {"Log", log}};
}

json networks_json(const Container& c, const std::map<std::string, std::string>& ids) {
  json nets = json::object();
  for (const auto& [name, ep] : c.endpoints) {
    const auto it = ids.find(name);
    nets[name] = {{"IPAMConfig", nullptr},
                  {"Links", nullptr},
                  {"Aliases", ep.aliases},
                  {"NetworkID", it == ids.end() ? ep.network_id : it->second},
                  {"EndpointID", ep.endpoint_id},
                  {"Gateway", ep.ip.substr(0, ep.ip.rfind('.')) + ".1"},
                  {"IPAddress", ep.ip},
                  {"IPPrefixLen", 16},
                  {"IPv6Gateway", ""},
                  {"GlobalIPv6Address", ""},
                  {"GlobalIPv6PrefixLen", 0},
                  {"MacAddress", "02:42:ac:11:00:" + ep.ip.substr(ep.ip.rfind('.') + 1)},
                  {"DriverOpts", nullptr}};
  }
  return nets;
}

}  // namespace

std::string human_status(const Container& c, system_clock::time_point now) {
  switch (c.status) {
    case ContainerStatus::kCreated:
      return "Created";
    case ContainerStatus::kRemoving:
      return "Removal In Progress";
    case ContainerStatus::kDead:
      return "Dead";
    case ContainerStatus::kRestarting:
      return "Restarting (" + std::to_string(c.exit_code) + ") " +
             human_duration(now - c.finished_at) + " ago";
    case ContainerStatus::kExited:
      return "Exited (" + std::to_string(c.exit_code) + ") " + human_duration(now - c.finished_at) +
             " ago";
    case ContainerStatus::kRunning:
    case ContainerStatus::kPaused: {
      std::string s = "Up " + human_duration(now - c.started_at);
      if (c.status == ContainerStatus::kPaused) return s + " (Paused)";
      if (c.health == "starting") return s + " (health: starting)";
      if (!c.health.empty()) return s + " (" + c.health + ")";
      return s;
    }
  }
  return "";
}

namespace {

// A process-backed container's published ports, as dockerd reports them; {} otherwise.
json ports_json(const Container& c) {
  json out = json::object();
  for (const auto& [key, port] : c.published) {
    out[key] = json::array({{{"HostIp", "127.0.0.1"}, {"HostPort", std::to_string(port)}}});
  }
  return out;
}

// A process-backed container's mounts (volumes and binds), with the host folder as Source.
json mounts_json(const Container& c) {
  json out = json::array();
  for (const auto& m : c.mounts) {
    out.push_back(
        {{"Type", "bind"}, {"Source", m.source.string()}, {"Destination", m.target}, {"RW", true}});
  }
  return out;
}

}  // namespace

json inspect_json(const Container& c, const std::map<std::string, std::string>& ids) {
  // As dockerd: Running stays true while a restart is pending (SetRestarting keeps it).
  json state = {{"Status", status_name(c.status)},
                {"Running", c.running() || c.status == ContainerStatus::kRestarting},
                {"Paused", c.status == ContainerStatus::kPaused},
                {"Restarting", c.status == ContainerStatus::kRestarting},
                {"OOMKilled", c.oom_killed},
                {"Dead", c.status == ContainerStatus::kDead},
                {"Pid", c.pid},
                {"ExitCode", c.exit_code},
                {"Error", c.error},
                {"StartedAt", rfc3339(c.started_at)},
                {"FinishedAt", rfc3339(c.finished_at)}};
  if (c.healthcheck.enabled() && !c.health.empty()) state["Health"] = health_json(c);
  json config = c.config_json.is_object() ? c.config_json : json::object();
  config["Image"] = c.image;
  config["Hostname"] = c.hostname;
  config["Env"] = c.env;
  config["Cmd"] = c.cmd.empty() ? json(nullptr) : json(c.cmd);
  config["Labels"] = c.labels;
  json host = c.host_config_json.is_object() ? c.host_config_json : json::object();
  host["NetworkMode"] = c.network_mode;
  host["Memory"] = c.memory;
  host["NanoCpus"] = c.nano_cpus;
  host["RestartPolicy"] = {{"Name", c.restart_policy.name()},
                           {"MaximumRetryCount", c.restart_policy.maximum_retry_count}};
  const json nets = networks_json(c, ids);
  std::string ip;
  if (c.endpoints.count("bridge")) ip = c.endpoints.at("bridge").ip;
  std::vector<std::string> args;
  std::string path;
  std::vector<std::string> full = c.entrypoint;
  full.insert(full.end(), c.cmd.begin(), c.cmd.end());
  if (!full.empty()) {
    path = full[0];
    args.assign(full.begin() + 1, full.end());
  }
  return {{"Id", c.id},
          {"Created", rfc3339(c.created)},
          {"Path", path},
          {"Args", args},
          {"State", state},
          {"Image", "sha256:" + std::string(64, '0')},
          {"ResolvConfPath", ""},
          {"HostnamePath", ""},
          {"HostsPath", ""},
          {"LogPath", ""},
          {"Name", "/" + c.name},
          {"RestartCount", c.restart_count},
          {"Driver", "overlay2"},
          {"Platform", "linux"},
          {"MountLabel", ""},
          {"ProcessLabel", ""},
          {"AppArmorProfile", ""},
          {"ExecIDs", nullptr},
          {"HostConfig", host},
          {"GraphDriver", {{"Name", "overlay2"}, {"Data", json::object()}}},
          {"Mounts", mounts_json(c)},
          {"Config", config},
          {"NetworkSettings",
           {{"Bridge", ""},
            {"SandboxID", ""},
            {"Ports", ports_json(c)},
            {"SandboxKey", ""},
            {"IPAddress", ip},
            {"IPPrefixLen", ip.empty() ? 0 : 16},
            {"Gateway", ip.empty() ? "" : ip.substr(0, ip.rfind('.')) + ".1"},
            {"MacAddress", ""},
            {"Networks", nets}}}};
}

json summary_json(const Container& c, system_clock::time_point now) {
  std::string command;
  std::vector<std::string> full = c.entrypoint;
  full.insert(full.end(), c.cmd.begin(), c.cmd.end());
  for (const auto& part : full) command += (command.empty() ? "" : " ") + part;
  json nets = json::object();
  for (const auto& [name, ep] : c.endpoints) {
    nets[name] = {
        {"NetworkID", ep.network_id}, {"EndpointID", ep.endpoint_id}, {"IPAddress", ep.ip}};
  }
  return {{"Id", c.id},
          {"Names", {"/" + c.name}},
          {"Image", c.image},
          {"ImageID", "sha256:" + std::string(64, '0')},
          {"Command", command},
          {"Created",
           std::chrono::duration_cast<std::chrono::seconds>(c.created.time_since_epoch()).count()},
          {"Ports", json::array()},
          {"Labels", c.labels},
          {"State", status_name(c.status)},
          {"Status", human_status(c, now)},
          {"HostConfig", {{"NetworkMode", c.network_mode}}},
          {"NetworkSettings", {{"Networks", nets}}},
          {"Mounts", json::array()}};
}

}  // namespace faultline::fakes::docker
