#include "harness/clients/docker/docker_client.h"

#include <cstdlib>
#include <mutex>

#include "harness/clients/docker/docker_http.h"

namespace faultline::clients {

using detail::url_escape;
using nlohmann::json;

DockerApiError::DockerApiError(int status, std::string message)
    : Error("docker daemon answered " + std::to_string(status) + ": " + message),
      status_(status),
      daemon_message_(std::move(message)) {}

DockerHost DockerHost::parse(const std::string& text) {
  DockerHost h;
  if (text.rfind("unix://", 0) == 0) {
    h.unix_path = text.substr(7);
    if (h.unix_path.empty() || h.unix_path[0] != '/') {
      throw UsageError("DOCKER_HOST '" + text + "': expected unix:///absolute/path");
    }
    return h;
  }
  if (text.rfind("tcp://", 0) == 0) {
    std::string rest = text.substr(6);
    const auto slash = rest.find('/');
    if (slash != std::string::npos) rest = rest.substr(0, slash);
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
      throw UsageError("DOCKER_HOST '" + text + "': expected tcp://host:port");
    }
    h.host = rest.substr(0, colon);
    if (h.host.size() > 2 && h.host.front() == '[' && h.host.back() == ']') {
      h.host = h.host.substr(1, h.host.size() - 2);
    }
    const std::string port = rest.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoi(port) > 65535) {
      throw UsageError("DOCKER_HOST '" + text + "': bad port");
    }
    h.port = static_cast<std::uint16_t>(std::stoi(port));
    return h;
  }
  throw UsageError("DOCKER_HOST '" + text + "': expected unix:///path or tcp://host:port");
}

DockerHost DockerHost::from_environment() {
  const char* env = std::getenv("DOCKER_HOST");
  return parse(env && *env ? env : "unix:///var/run/docker.sock");
}

std::string DockerHost::str() const {
  if (!unix_path.empty()) return "unix://" + unix_path;
  return "tcp://" + host + ":" + std::to_string(port);
}

struct DockerClient::Impl {
  DockerHost host;
  std::string wanted;
  std::chrono::milliseconds timeout;
  std::mutex mu;
  std::string negotiated;  // empty until the first call

  std::string versioned(const std::string& path, std::string& version) {
    return "/v" + version + path;
  }
};

namespace {

bool version_less(const std::string& a, const std::string& b) {
  auto parts = [](const std::string& v) {
    const auto dot = v.find('.');
    return std::make_pair(std::atoi(v.substr(0, dot).c_str()),
                          dot == std::string::npos ? 0 : std::atoi(v.substr(dot + 1).c_str()));
  };
  return parts(a) < parts(b);
}

std::string message_of(const std::string& body) {
  try {
    const json j = json::parse(body);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      return j["message"].get<std::string>();
    }
  } catch (const json::exception&) {
  }
  return body;
}

std::string query_filters(const DockerFilters& filters) {
  if (filters.empty()) return "";
  json j = json::object();
  for (const auto& [k, v] : filters) j[k] = v;
  return url_escape(j.dump());
}

}  // namespace

DockerClient::DockerClient(DockerHost host, std::string api_version,
                           std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->wanted = std::move(api_version);
  impl_->timeout = timeout;
}

DockerClient::~DockerClient() = default;

const DockerHost& DockerClient::host() const {
  return impl_->host;
}

std::string DockerClient::api_version() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->negotiated.empty()) return impl_->negotiated;
  }
  const auto reply = detail::http_exchange(impl_->host, {"GET", "/_ping", ""}, impl_->timeout);
  std::string version = impl_->wanted;
  const auto it = reply.headers.find("api-version");
  if (it != reply.headers.end() && !it->second.empty() && version_less(it->second, version)) {
    version = it->second;
  }
  if (reply.status / 100 != 2 && it == reply.headers.end()) {
    throw DockerApiError(reply.status, message_of(reply.body));
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->negotiated = version;
  return version;
}

DockerClient::Reply DockerClient::request(const std::string& method, const std::string& path,
                                          const std::string& body, bool versioned) {
  const std::string target = versioned ? "/v" + api_version() + path : path;
  return detail::http_exchange(impl_->host, {method, target, body}, impl_->timeout);
}

namespace {

const DockerClient::Reply& check(const DockerClient::Reply& r, int expected_a, int expected_b = 0) {
  if (r.status != expected_a && r.status != expected_b && r.status / 100 != 2) {
    throw DockerApiError(r.status, message_of(r.body));
  }
  return r;
}

json body_json(const DockerClient::Reply& r) {
  try {
    return json::parse(r.body);
  } catch (const json::exception& e) {
    throw Error(std::string("docker daemon sent invalid JSON: ") + e.what());
  }
}

}  // namespace

bool DockerClient::ping() {
  const auto r = request("GET", "/_ping", "", false);
  return r.status == 200 && r.body == "OK";
}

json DockerClient::version() {
  return body_json(check(request("GET", "/version"), 200));
}

json DockerClient::info() {
  return body_json(check(request("GET", "/info"), 200));
}

std::string DockerClient::create_container(const ContainerSpec& spec) {
  json body = {{"Image", spec.image}};
  if (!spec.cmd.empty()) body["Cmd"] = spec.cmd;
  json env = json::array();
  for (const auto& [k, v] : spec.env) env.push_back(k + "=" + v);
  body["Env"] = env;
  body["Labels"] = spec.labels;
  if (spec.healthcheck) {
    const auto& h = *spec.healthcheck;
    body["Healthcheck"] = {{"Test", h.test},
                           {"Interval", h.interval.count()},
                           {"Timeout", h.timeout.count()},
                           {"StartPeriod", h.start_period.count()},
                           {"Retries", h.retries}};
  }
  std::string policy = spec.restart_policy;
  int retries = 0;
  const auto colon = policy.find(':');
  if (colon != std::string::npos) {
    retries = std::atoi(policy.substr(colon + 1).c_str());
    policy = policy.substr(0, colon);
  }
  json host = {{"RestartPolicy", {{"Name", policy}, {"MaximumRetryCount", retries}}},
               {"Memory", spec.memory_bytes},
               {"NanoCpus", spec.nano_cpus}};
  if (!spec.networks.empty()) host["NetworkMode"] = spec.networks.front();
  body["HostConfig"] = host;
  std::string path = "/containers/create";
  if (!spec.name.empty()) path += "?name=" + url_escape(spec.name);
  const json created = body_json(check(request("POST", path, body.dump()), 201));
  const std::string id = created.value("Id", std::string());
  for (std::size_t i = 1; i < spec.networks.size(); ++i) connect(spec.networks[i], id);
  return id;
}

void DockerClient::start(const std::string& c) {
  check(request("POST", "/containers/" + url_escape(c) + "/start"), 204, 304);
}

void DockerClient::stop(const std::string& c, std::optional<int> timeout_seconds) {
  std::string path = "/containers/" + url_escape(c) + "/stop";
  if (timeout_seconds) path += "?t=" + std::to_string(*timeout_seconds);
  check(request("POST", path), 204, 304);
}

void DockerClient::kill(const std::string& c, const std::string& signal) {
  check(request("POST", "/containers/" + url_escape(c) + "/kill?signal=" + url_escape(signal)),
        204);
}

void DockerClient::restart(const std::string& c, std::optional<int> timeout_seconds) {
  std::string path = "/containers/" + url_escape(c) + "/restart";
  if (timeout_seconds) path += "?t=" + std::to_string(*timeout_seconds);
  check(request("POST", path), 204);
}

void DockerClient::pause(const std::string& c) {
  check(request("POST", "/containers/" + url_escape(c) + "/pause"), 204);
}

void DockerClient::unpause(const std::string& c) {
  check(request("POST", "/containers/" + url_escape(c) + "/unpause"), 204);
}

int DockerClient::wait(const std::string& c, std::chrono::milliseconds bound) {
  const std::string target = "/v" + api_version() + "/containers/" + url_escape(c) + "/wait";
  const auto r = detail::http_exchange(impl_->host, {"POST", target, ""}, bound);
  return body_json(check(r, 200)).value("StatusCode", -1);
}

namespace {

std::map<std::string, std::string> string_map(const json& j) {
  std::map<std::string, std::string> out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

ContainerInfo to_info(const json& j) {
  ContainerInfo i;
  i.raw = j;
  i.id = j.value("Id", std::string());
  i.name = j.value("Name", std::string());
  if (!i.name.empty() && i.name[0] == '/') i.name = i.name.substr(1);
  const json& config = j.value("Config", json::object());
  i.image = config.value("Image", std::string());
  i.labels = string_map(config.value("Labels", json::object()));
  const json& s = j.value("State", json::object());
  i.status = s.value("Status", std::string());
  i.running = s.value("Running", false);
  i.paused = s.value("Paused", false);
  i.restarting = s.value("Restarting", false);
  i.oom_killed = s.value("OOMKilled", false);
  i.dead = s.value("Dead", false);
  i.pid = s.value("Pid", 0);
  i.exit_code = s.value("ExitCode", 0);
  i.started_at = s.value("StartedAt", std::string());
  i.finished_at = s.value("FinishedAt", std::string());
  if (s.contains("Health") && s["Health"].is_object()) {
    i.health = s["Health"].value("Status", std::string());
    i.failing_streak = s["Health"].value("FailingStreak", 0);
  }
  i.restart_count = j.value("RestartCount", 0);
  const json& nets = j.value("NetworkSettings", json::object()).value("Networks", json::object());
  if (nets.is_object()) {
    for (const auto& [name, ep] : nets.items()) i.networks[name] = ep.value("IPAddress", "");
  }
  return i;
}

}  // namespace

ContainerInfo DockerClient::inspect(const std::string& c) {
  return to_info(body_json(check(request("GET", "/containers/" + url_escape(c) + "/json"), 200)));
}

std::optional<ContainerInfo> DockerClient::try_inspect(const std::string& c) {
  const auto r = request("GET", "/containers/" + url_escape(c) + "/json");
  if (r.status == 404) return std::nullopt;
  return to_info(body_json(check(r, 200)));
}

std::vector<ContainerSummary> DockerClient::list_containers(bool all, const DockerFilters& f) {
  std::string path = std::string("/containers/json?all=") + (all ? "1" : "0");
  if (!f.empty()) path += "&filters=" + query_filters(f);
  std::vector<ContainerSummary> out;
  for (const auto& row : body_json(check(request("GET", path), 200))) {
    ContainerSummary s;
    s.id = row.value("Id", std::string());
    for (const auto& n : row.value("Names", json::array())) s.names.push_back(n.get<std::string>());
    s.image = row.value("Image", std::string());
    s.state = row.value("State", std::string());
    s.status = row.value("Status", std::string());
    s.labels = string_map(row.value("Labels", json::object()));
    out.push_back(std::move(s));
  }
  return out;
}

void DockerClient::remove_container(const std::string& c, bool force) {
  check(request("DELETE", "/containers/" + url_escape(c) + (force ? "?force=1" : "")), 204);
}

std::string DockerClient::logs(const std::string& c) {
  const auto r =
      check(request("GET", "/containers/" + url_escape(c) + "/logs?stdout=1&stderr=1"), 200);
  // Multiplexed frames: [stream, 0, 0, 0, size (big endian, 4 bytes)] payload.
  std::string out;
  std::size_t i = 0;
  const std::string& b = r.body;
  while (i + 8 <= b.size()) {
    const std::size_t n = (static_cast<std::size_t>(static_cast<unsigned char>(b[i + 4])) << 24) |
                          (static_cast<std::size_t>(static_cast<unsigned char>(b[i + 5])) << 16) |
                          (static_cast<std::size_t>(static_cast<unsigned char>(b[i + 6])) << 8) |
                          static_cast<std::size_t>(static_cast<unsigned char>(b[i + 7]));
    if (i + 8 + n > b.size()) throw Error("docker logs: truncated frame");
    out += b.substr(i + 8, n);
    i += 8 + n;
  }
  return out;
}
}  // namespace faultline::clients
