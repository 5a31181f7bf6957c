// DockerClient: networks, images and events.
#include "harness/clients/docker/docker_client.h"
#include "harness/clients/docker/docker_http.h"

namespace faultline::clients {

using detail::url_escape;
using nlohmann::json;

namespace {

json parse(const DockerClient::Reply& r, int expected) {
  if (r.status != expected && r.status / 100 != 2) {
    std::string message = r.body;
    try {
      const json j = json::parse(r.body);
      if (j.is_object() && j.contains("message")) message = j["message"].get<std::string>();
    } catch (const json::exception&) {
    }
    throw DockerApiError(r.status, message);
  }
  if (r.body.empty()) return json::object();
  try {
    return json::parse(r.body);
  } catch (const json::exception& e) {
    throw Error(std::string("docker daemon sent invalid JSON: ") + e.what());
  }
}

NetworkInfo to_network(const json& j) {
  NetworkInfo n;
  n.id = j.value("Id", std::string());
  n.name = j.value("Name", std::string());
  n.driver = j.value("Driver", std::string());
  if (j.contains("Labels") && j["Labels"].is_object()) {
    for (const auto& [k, v] : j["Labels"].items()) {
      if (v.is_string()) n.labels[k] = v.get<std::string>();
    }
  }
  if (j.contains("Containers") && j["Containers"].is_object()) {
    for (const auto& [id, ep] : j["Containers"].items()) n.containers.push_back(id);
  }
  return n;
}

DockerEvent to_event(const json& j) {
  DockerEvent e;
  e.type = j.value("Type", std::string());
  e.action = j.value("Action", std::string());
  const json& actor = j.value("Actor", json::object());
  e.id = actor.value("ID", std::string());
  if (actor.contains("Attributes") && actor["Attributes"].is_object()) {
    for (const auto& [k, v] : actor["Attributes"].items()) {
      if (v.is_string()) e.attributes[k] = v.get<std::string>();
    }
  }
  e.time_nano = j.value("timeNano", std::int64_t{0});
  return e;
}

std::string filters_param(const DockerFilters& filters) {
  json j = json::object();
  for (const auto& [k, v] : filters) j[k] = v;
  return url_escape(j.dump());
}

// Splits a stream of newline-separated JSON documents, keeping a partial tail between calls.
class JsonLines {
 public:
  template <class F>
  bool feed(const std::string& data, F&& each) {
    pending_ += data;
    std::size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      const std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      if (!each(json::parse(line))) return false;
    }
    return true;
  }

 private:
  std::string pending_;
};

}  // namespace

std::string DockerClient::create_network(const std::string& name,
                                         const std::map<std::string, std::string>& labels) {
  const json body = {{"Name", name}, {"Driver", "bridge"}, {"Labels", labels}};
  return parse(request("POST", "/networks/create", body.dump()), 201).value("Id", std::string());
}

NetworkInfo DockerClient::inspect_network(const std::string& network) {
  return to_network(parse(request("GET", "/networks/" + url_escape(network)), 200));
}

std::vector<NetworkInfo> DockerClient::list_networks() {
  std::vector<NetworkInfo> out;
  for (const auto& j : parse(request("GET", "/networks"), 200)) out.push_back(to_network(j));
  return out;
}

void DockerClient::remove_network(const std::string& network) {
  parse(request("DELETE", "/networks/" + url_escape(network)), 204);
}

void DockerClient::connect(const std::string& network, const std::string& container) {
  const json body = {{"Container", container}, {"EndpointConfig", json::object()}};
  parse(request("POST", "/networks/" + url_escape(network) + "/connect", body.dump()), 200);
}

void DockerClient::disconnect(const std::string& network, const std::string& container,
                              bool force) {
  const json body = {{"Container", container}, {"Force", force}};
  parse(request("POST", "/networks/" + url_escape(network) + "/disconnect", body.dump()), 200);
}

void DockerClient::pull(const std::string& image) {
  std::string name = image, tag = "latest";
  const auto colon = image.rfind(':');
  if (colon != std::string::npos && image.find('/', colon) == std::string::npos) {
    name = image.substr(0, colon);
    tag = image.substr(colon + 1);
  }
  const auto r =
      request("POST", "/images/create?fromImage=" + url_escape(name) + "&tag=" + url_escape(tag));
  parse(DockerClient::Reply{r.status, r.headers, r.status / 100 == 2 ? "" : r.body}, 200);
  // A pull that fails midway reports it in the stream, not in the status.
  JsonLines lines;
  lines.feed(r.body + "\n", [&](const json& j) {
    if (j.contains("error")) throw DockerApiError(500, j["error"].dump());
    return true;
  });
}

std::vector<DockerEvent> DockerClient::events(std::int64_t since, std::int64_t until,
                                              const DockerFilters& filters) {
  std::string target = "/v" + api_version() + "/events?since=" + std::to_string(since) +
                       "&until=" + std::to_string(until);
  if (!filters.empty()) target += "&filters=" + filters_param(filters);
  std::vector<DockerEvent> out;
  JsonLines lines;
  const auto r = detail::http_stream(
      host(), {"GET", target, ""},
      [&](const std::string& data) {
        return lines.feed(data, [&](const json& j) {
          out.push_back(to_event(j));
          return true;
        });
      },
      std::chrono::seconds(60));
  if (r.status / 100 != 2) parse(DockerClient::Reply{r.status, {}, r.error_body}, 200);
  if (r.timed_out) throw DockerUnavailable("GET /events: the daemon did not end the stream");
  return out;
}

bool DockerClient::follow_events(const std::function<bool(const DockerEvent&)>& on_event,
                                 std::chrono::milliseconds bound, const DockerFilters& filters) {
  std::string target = "/v" + api_version() + "/events";
  if (!filters.empty()) target += "?filters=" + filters_param(filters);
  JsonLines lines;
  const auto r = detail::http_stream(
      host(), {"GET", target, ""},
      [&](const std::string& data) {
        return lines.feed(data, [&](const json& j) { return on_event(to_event(j)); });
      },
      bound);
  if (r.status / 100 != 2 && r.status != 0)
    parse(DockerClient::Reply{r.status, {}, r.error_body}, 200);
  return r.stopped;
}

}  // namespace faultline::clients
