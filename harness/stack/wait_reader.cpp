// Reads a `wait:` strategy from a stack file (or compose's `x-faultline-wait:`):
//
//   wait: port | health                       # a single strategy by name
//   wait: [<strategy>, ...]                   # all of them, in order
//   wait: {<one strategy key>: ..., timeout: 30s}
//     port: <number> | endpoint
//     log: <regex> | {pattern: <regex>, times: N}
//     command: <string or list>
//     sql: <query>
//     http: <path> | {path: /health, status: 200, body: <regex>}
//     health: true
//     all: [<strategy>, ...]    any: [<strategy>, ...]
#include "harness/core/text.h"
#include "harness/stack/wait_strategy.h"
#include "harness/stack/yaml_values.h"

namespace faultline::stack {
namespace {

const std::vector<std::string> kStrategies = {"port", "log",    "command", "sql",
                                              "http", "health", "all",     "any"};
const std::vector<std::string> kLogKeys = {"pattern", "times"};
const std::vector<std::string> kHttpKeys = {"path", "status", "body"};

}  // namespace

WaitSpec ValueReader::wait(const YAML::Node& node) {
  WaitSpec spec;
  spec.where = at(node);
  if (node.IsScalar()) {
    const std::string name = value(node, "'wait'");
    if (name == "port") {
      spec.kind = WaitSpec::Kind::port;
    } else if (name == "health") {
      spec.kind = WaitSpec::Kind::health;
    } else {
      fail(node, "unknown wait strategy '" + name + "'" + did_you_mean(name, kStrategies) +
                     " (a bare name may be port or health; the others take a value, e.g. "
                     "{log: <regex>})");
    }
    return spec;
  }
  if (node.IsSequence()) {
    if (node.size() == 0) fail(node, "a wait list needs at least one strategy");
    spec.kind = WaitSpec::Kind::all_of;
    for (const auto& child : node) spec.children.push_back(wait(child));
    return spec;
  }
  if (!node.IsMap()) fail(node, "'wait' must be a strategy name, a list or a mapping");
  std::vector<std::string> allowed = kStrategies;
  allowed.push_back("timeout");
  check_keys(node, allowed, "a wait strategy");
  std::string chosen;
  for (const auto& kv : node) {
    const std::string k = key(kv.first);
    if (k == "timeout") continue;
    if (!chosen.empty()) {
      fail(kv.first,
           "a wait strategy names one of port, log, command, sql, http, health, all, "
           "any; this one names both '" +
               chosen + "' and '" + k + "' (use all: [...] to combine them)");
    }
    chosen = k;
  }
  if (chosen.empty()) {
    fail(node, "a wait strategy needs one of port, log, command, sql, http, health, all, any");
  }
  if (node["timeout"]) spec.timeout = duration(node["timeout"], "'timeout'");
  const YAML::Node v = node[chosen];
  if (chosen == "port") {
    spec.kind = WaitSpec::Kind::port;
    if (!(v.IsScalar() && value(v, "'port'") == "endpoint")) {
      spec.port = integer(v, "'port'", 1, 65535);
    }
  } else if (chosen == "log") {
    spec.kind = WaitSpec::Kind::log;
    if (v.IsMap()) {
      check_keys(v, kLogKeys, "a log wait");
      spec.pattern = scalar(v, "pattern", true, "a log wait");
      if (v["times"]) spec.times = integer(v["times"], "'times'", 1, 1000);
    } else {
      spec.pattern = value(v, "'log'");
    }
  } else if (chosen == "command") {
    spec.kind = WaitSpec::Kind::command;
    spec.command = command(v);
  } else if (chosen == "sql") {
    spec.kind = WaitSpec::Kind::sql;
    spec.sql = value(v, "'sql'");
  } else if (chosen == "http") {
    spec.kind = WaitSpec::Kind::http;
    if (v.IsMap()) {
      check_keys(v, kHttpKeys, "an http wait");
      if (v["path"]) spec.path = value(v["path"], "'path'");
      if (v["status"]) spec.status = integer(v["status"], "'status'", 100, 599);
      if (v["body"]) spec.body = value(v["body"], "'body'");
    } else {
      spec.path = value(v, "'http'");
    }
    if (spec.path.empty() || spec.path[0] != '/') {
      fail(v, "an http wait's path starts with '/', not '" + spec.path + "'");
    }
  } else if (chosen == "health") {
    spec.kind = WaitSpec::Kind::health;
    if (!boolean(v, "'health'")) fail(v, "'health: false' waits for nothing; leave it out");
  } else {
    spec.kind = chosen == "all" ? WaitSpec::Kind::all_of : WaitSpec::Kind::any_of;
    if (!v.IsSequence() || v.size() == 0) fail(v, "'" + chosen + "' takes a non-empty list");
    for (const auto& child : v) spec.children.push_back(wait(child));
  }
  // What only building it can tell (a regex that does not compile, an empty command) fails here,
  // with the file and line, rather than when the service starts.
  make_wait_strategy(spec);
  return spec;
}

}  // namespace faultline::stack
