#include "harness/backends/external_stack.h"

#include <yaml-cpp/yaml.h>

namespace faultline::backends {

std::string external_stack_file(const stack::Stack& stack,
                                const std::map<std::string, stack::Endpoint>& endpoints,
                                const std::string& backend) {
  YAML::Emitter out;
  out << YAML::Comment("The running stack '" + stack.name + "' (" + backend +
                       " backend), for the external backend.")
      << YAML::Newline;
  out << YAML::BeginMap << YAML::Key << "stack" << YAML::Value << stack.name;
  out << YAML::Key << "services" << YAML::Value << YAML::BeginMap;
  for (const auto& s : stack.services) {
    auto it = endpoints.find(s.name);
    if (it == endpoints.end()) continue;
    out << YAML::Key << s.name << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "kind" << YAML::Value << std::string(stack::to_string(s.kind));
    if (!s.depends_on.empty()) {
      out << YAML::Key << "depends_on" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& d : s.depends_on) {
        if (endpoints.count(d.service)) out << d.service;
      }
      out << YAML::EndSeq;
    }
    if (s.persistent) out << YAML::Key << "persistent" << YAML::Value << true;
    if (!s.settings.empty()) {
      out << YAML::Key << "settings" << YAML::Value << YAML::BeginMap;
      for (const auto& [k, v] : s.settings) out << YAML::Key << k << YAML::Value << v;
      out << YAML::EndMap;
    }
    out << YAML::Key << "chaos" << YAML::Value
        << (stack::chaos_allowed(s, backend) ? "allowed" : "forbidden");
    out << YAML::Key << "external" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "host" << YAML::Value << it->second.host;
    out << YAML::Key << "port" << YAML::Value << it->second.port;
    if (!it->second.url.empty()) out << YAML::Key << "url" << YAML::Value << it->second.url;
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace faultline::backends
