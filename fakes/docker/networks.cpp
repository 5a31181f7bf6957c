// DockerDaemon: networks — create, inspect, list, remove, connect, disconnect — and the
// endpoints (IPv4 addresses on a /16 per network) containers hold on them.

#include <cctype>

#include "fakes/docker/api_types.h"
#include "fakes/docker/daemon.h"

namespace faultline::fakes::docker {

using nlohmann::json;

namespace {

std::string host_ip(const Network& n, int host) {
  return "172." + std::to_string(17 + n.subnet_index) + "." + std::to_string(host / 256) + "." +
         std::to_string(host % 256);
}

}  // namespace

void DockerDaemon::attach_endpoint(Container& c, Network& n,
                                   const std::vector<std::string>& aliases) {
  Endpoint ep;
  ep.network_id = n.id;
  ep.endpoint_id = new_id();
  ep.aliases = aliases;
  if (!n.subnet.empty()) {
    if (n.next_host > 65534)
      throw ApiError(500, "no available IPv4 addresses on network " + n.name);
    ep.ip = host_ip(n, n.next_host++);
  }
  c.endpoints[n.name] = ep;
  emit_network(n, "connect", c.id);
}

void DockerDaemon::detach_endpoints(Container& c) {
  for (const auto& [name, ep] : c.endpoints) {
    auto it = networks_.find(ep.network_id);
    if (it != networks_.end()) emit_network(it->second, "disconnect", c.id);
  }
  c.endpoints.clear();
}

json DockerDaemon::create_network(const json& body) {
  if (!body.is_object() || !body.contains("Name") || !body["Name"].is_string() ||
      body["Name"].get<std::string>().empty()) {
    throw ApiError(400, "network name must not be empty");
  }
  const std::string name = body["Name"].get<std::string>();
  bool valid = std::isalnum(static_cast<unsigned char>(name[0])) != 0;
  for (const char ch : name) {
    const unsigned char c = static_cast<unsigned char>(ch);
    valid = valid && (std::isalnum(c) != 0 || c == '_' || c == '.' || c == '-');
  }
  if (!valid) {
    throw ApiError(400, "invalid network name \"" + name + "\"");
  }
  Lock lock(mu_);
  for (const auto& [id, n] : networks_) {
    if (n.name == name) throw ApiError(409, "network with name " + name + " already exists");
  }
  Network n;
  n.id = new_id();
  n.name = name;
  n.driver = body.value("Driver", std::string("bridge"));
  if (n.driver.empty()) n.driver = "bridge";
  if (n.driver != "bridge" && n.driver != "overlay" && n.driver != "macvlan") {
    throw ApiError(404, "plugin \"" + n.driver + "\" not found");
  }
  if (n.driver == "overlay") {
    throw ApiError(403,
                   "This node is not a swarm manager. Use \"docker swarm init\" or \"docker "
                   "swarm join\" to connect this node to swarm and try again.");
  }
  if (body.contains("Labels") && body["Labels"].is_object()) {
    for (const auto& [k, v] : body["Labels"].items()) {
      if (v.is_string()) n.labels[k] = v.get<std::string>();
    }
  }
  n.internal = body.value("Internal", false);
  n.subnet_index = next_subnet_++;
  if (n.subnet_index > 200)
    throw ApiError(500,
                   "could not find an available, non-overlapping "
                   "IPv4 address pool among the defaults to assign "
                   "to the network");
  n.subnet = "172." + std::to_string(17 + n.subnet_index) + ".0.0/16";
  n.gateway = host_ip(n, 1);
  n.created = wall();
  auto& stored = networks_.emplace(n.id, n).first->second;
  emit_network(stored, "create", "");
  return {{"Id", stored.id}, {"Warning", ""}};
}

json DockerDaemon::inspect_network(const std::string& ref) const {
  Lock lock(mu_);
  const Network* n = find_network_or_null(ref);
  if (!n) throw ApiError(404, "network " + ref + " not found");
  json containers = json::object();
  for (const auto& [id, c] : containers_) {
    const auto it = c.endpoints.find(n->name);
    if (it == c.endpoints.end()) continue;
    containers[id] = {{"Name", c.name},
                      {"EndpointID", it->second.endpoint_id},
                      {"MacAddress", ""},
                      {"IPv4Address", it->second.ip.empty() ? "" : it->second.ip + "/16"},
                      {"IPv6Address", ""}};
  }
  json config = json::array();
  if (!n->subnet.empty()) config.push_back({{"Subnet", n->subnet}, {"Gateway", n->gateway}});
  return {{"Name", n->name},
          {"Id", n->id},
          {"Created", rfc3339(n->created)},
          {"Scope", "local"},
          {"Driver", n->driver},
          {"EnableIPv6", false},
          {"IPAM", {{"Driver", "default"}, {"Options", nullptr}, {"Config", config}}},
          {"Internal", n->internal},
          {"Attachable", false},
          {"Ingress", false},
          {"ConfigFrom", {{"Network", ""}}},
          {"ConfigOnly", false},
          {"Containers", containers},
          {"Options", json::object()},
          {"Labels", n->labels}};
}

json DockerDaemon::list_networks(const EventFilters& filters) const {
  std::vector<std::string> ids;
  {
    Lock lock(mu_);
    for (const auto& [id, n] : networks_) {
      bool keep = true;
      for (const auto& [key, values] : filters) {
        if (values.empty()) continue;
        bool any = false;
        for (const auto& v : values) {
          if (key == "name")
            any = any || n.name.find(v) != std::string::npos;
          else if (key == "id")
            any = any || id.rfind(v, 0) == 0;
          else if (key == "driver")
            any = any || n.driver == v;
          else if (key == "type")
            any = any || (v == "builtin") == n.predefined;
          else if (key == "scope")
            any = any || v == "local";
          else if (key == "label") {
            const auto eq = v.find('=');
            const auto it = n.labels.find(v.substr(0, eq));
            any = any || (it != n.labels.end() &&
                          (eq == std::string::npos || it->second == v.substr(eq + 1)));
          } else {
            throw ApiError(400, "invalid filter '" + key + "'");
          }
        }
        keep = keep && any;
      }
      if (keep) ids.push_back(id);
    }
  }
  json out = json::array();
  for (const auto& id : ids) out.push_back(inspect_network(id));
  return out;
}

void DockerDaemon::remove_network(const std::string& ref) {
  Lock lock(mu_);
  Network& n = find_network(ref);
  if (n.predefined) {
    throw ApiError(403, n.name + " is a pre-defined network and cannot be removed");
  }
  for (const auto& [id, c] : containers_) {
    if (c.endpoints.count(n.name)) {
      throw ApiError(403, "error while removing network: network " + n.name + " id " + n.id +
                              " has active endpoints");
    }
  }
  emit_network(n, "destroy", "");
  networks_.erase(n.id);
}

void DockerDaemon::connect(const std::string& network, const std::string& container,
                           const json& endpoint_config) {
  Lock lock(mu_);
  Network& n = find_network(network);
  Container& c = find(container);
  if (n.name == "host" || n.name == "none" || c.network_mode == "host" ||
      c.network_mode == "none") {
    throw ApiError(400,
                   "container cannot be disconnected from host network or connected to "
                   "host network");
  }
  if (c.endpoints.count(n.name)) {
    throw ApiError(403, "endpoint with name " + c.name + " already exists in network " + n.name);
  }
  std::vector<std::string> aliases;
  if (endpoint_config.is_object() && endpoint_config.contains("Aliases") &&
      endpoint_config["Aliases"].is_array()) {
    for (const auto& a : endpoint_config["Aliases"]) {
      if (a.is_string()) aliases.push_back(a.get<std::string>());
    }
  }
  attach_endpoint(c, n, aliases);
}

void DockerDaemon::disconnect(const std::string& network, const std::string& container,
                              bool force) {
  Lock lock(mu_);
  Network& n = find_network(network);
  Container* c = const_cast<Container*>(find_or_null(container));
  if (!c) {
    if (force) return;  // dockerd removes a stale endpoint by name; the fake has none
    throw ApiError(404, "No such container: " + container);
  }
  if (n.name == "host" || n.name == "none") {
    throw ApiError(400,
                   "container cannot be disconnected from host network or connected to "
                   "host network");
  }
  if (!c->endpoints.count(n.name)) {
    throw ApiError(403, "container " + c->id + " is not connected to network " + n.name);
  }
  c->endpoints.erase(n.name);
  emit_network(n, "disconnect", c->id);
}

}  // namespace faultline::fakes::docker
