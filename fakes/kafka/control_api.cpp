#include "fakes/kafka/control_api.h"

#include <regex>

#include "fakes/kafka/fake_kafka.h"
#include "harness/core/error.h"

namespace faultline::fakes::kafka {

namespace {

using nlohmann::json;

ControlReply error_reply(int status, const std::string& message) {
  return {status, {{"error", message}}};
}

// Reads a required integer field; throws InputError naming it.
int int_field(const json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_number_integer()) {
    throw InputError({}, std::string("field '") + name + "' must be an integer");
  }
  return body[name].get<int>();
}

std::string string_field(const json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_string()) {
    throw InputError({}, std::string("field '") + name + "' must be a string");
  }
  return body[name].get<std::string>();
}

// An error given by name ("NOT_LEADER_FOR_PARTITION") or by code.
int error_value(const json& e) {
  if (e.is_number_integer()) return parse_error_code(std::to_string(e.get<int>()));
  if (e.is_string()) return parse_error_code(e.get<std::string>());
  throw InputError({}, "field 'errors' must list error names or codes");
}

int broker_id(const std::string& text) {
  if (text == "all") return -1;
  try {
    std::size_t used = 0;
    const int id = std::stoi(text, &used);
    if (used == text.size()) return id;
  } catch (const std::exception&) {
  }
  throw InputError({}, "bad broker id '" + text + "'");
}

ControlReply route(FakeKafkaCluster& kafka, const std::string& method, const std::string& path,
                   const json& body) {
  static const std::regex broker_re("/brokers/([^/]+)/(down|up|rtt)");
  static const std::regex leader_re("/topics/([^/]+)/partitions/([0-9]{1,6})/leader");
  static const std::regex errors_re("/errors/([^/]+)");
  std::smatch m;
  const bool get = method == "GET", post = method == "POST", del = method == "DELETE";
  if (path == "/health") {
    if (!get) return error_reply(405, "use GET");
    return {200, {{"status", "ok"}, {"bootstrap", kafka.bootstrap()}}};
  }
  if (path == "/cluster") {
    if (!get) return error_reply(405, "use GET");
    return {200, cluster_to_json(kafka)};
  }
  if (path == "/topics") {
    if (!post) return error_reply(405, "use POST");
    const std::string name = string_field(body, "name");
    kafka.create_topic(name, int_field(body, "partitions"), int_field(body, "replication"));
    return {200, {{"created", name}}};
  }
  if (path == "/groups") {
    if (!post) return error_reply(405, "use POST");
    const std::string group = string_field(body, "group");
    kafka.add_group(group);
    return {200, {{"group", group}, {"coordinator", kafka.coordinator(group)}}};
  }
  if (std::regex_match(path, m, broker_re)) {
    if (!post) return error_reply(405, "use POST");
    const int broker = broker_id(m[1]);
    if (m[2] == "rtt") {
      kafka.set_rtt(broker, std::chrono::milliseconds(int_field(body, "ms")));
      return {200, {{"broker", broker}, {"rtt_ms", body["ms"]}}};
    }
    if (broker == -1) throw InputError({}, "name one broker to take down or bring up");
    m[2] == "down" ? kafka.broker_down(broker) : kafka.broker_up(broker);
    return {200, cluster_to_json(kafka)};
  }
  if (path == "/errors") {
    if (!post) return error_reply(405, "use POST");
    const int api = parse_api_key(string_field(body, "api"));
    if (!body.contains("errors") || !body["errors"].is_array() || body["errors"].empty()) {
      throw InputError({}, "field 'errors' must be a non-empty array");
    }
    std::vector<int> errors;
    for (const auto& e : body["errors"]) errors.push_back(error_value(e));
    if (body.contains("broker")) {
      const int rtt = body.contains("rtt_ms") ? int_field(body, "rtt_ms") : 0;
      kafka.push_broker_errors(int_field(body, "broker"), api, errors,
                               std::chrono::milliseconds(rtt));
    } else {
      kafka.push_errors(api, errors);
    }
    return {200, {{"api", api}, {"pushed", errors.size()}}};
  }
  if (std::regex_match(path, m, errors_re)) {
    if (!del) return error_reply(405, "use DELETE");
    kafka.clear_errors(parse_api_key(m[1]));
    return {200, {{"cleared", std::string(m[1])}}};
  }
  if (std::regex_match(path, m, leader_re)) {
    if (!post) return error_reply(405, "use POST");
    kafka.move_leader(m[1], std::stoi(m[2]), int_field(body, "broker"));
    return {200, cluster_to_json(kafka)};
  }
  if (path == "/elect-preferred-leaders") {
    if (!post) return error_reply(405, "use POST");
    return {200, {{"moved", kafka.elect_preferred_leaders()}}};
  }
  if (path == "/reset") {
    if (!post) return error_reply(405, "use POST");
    kafka.heal_all();
    return {200, cluster_to_json(kafka)};
  }
  return error_reply(404, "no such resource: " + path);
}

}  // namespace

json cluster_to_json(const FakeKafkaCluster& kafka) {
  const ClusterHealth h = kafka.health();
  json topics = json::object();
  for (const auto& name : kafka.topics()) {
    const TopicState t = kafka.describe_topic(name);
    json partitions = json::array();
    for (const auto& p : t.partitions) {
      partitions.push_back({{"partition", p.partition},
                            {"replicas", p.replicas},
                            {"isr", p.isr},
                            {"leader", p.leader}});
    }
    topics[name] = {{"replication", t.replication}, {"partitions", partitions}};
  }
  return {{"bootstrap", kafka.bootstrap()},
          {"brokers_up", h.brokers_up},
          {"brokers_down", h.brokers_down},
          {"offline_partitions", h.offline_partitions},
          {"under_replicated_partitions", h.under_replicated_partitions},
          {"max_replication_lag_ms",
           std::chrono::duration_cast<std::chrono::milliseconds>(h.max_replication_lag).count()},
          {"topics", topics},
          {"groups", kafka.groups()}};
}

ControlReply handle_control_request(FakeKafkaCluster& kafka, const std::string& method,
                                    const std::string& target, const std::string& body) {
  const std::string path = target.substr(0, target.find('?'));
  json params = json::object();
  if (!body.empty()) {
    params = json::parse(body, nullptr, false);
    if (params.is_discarded()) return error_reply(400, "body is not JSON");
    if (!params.is_object()) return error_reply(400, "body must be a JSON object");
  }
  try {
    return route(kafka, method, path, params);
  } catch (const InputError& e) {
    return error_reply(400, e.problem());
  }
}

}  // namespace faultline::fakes::kafka
