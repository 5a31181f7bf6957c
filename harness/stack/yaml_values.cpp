#include "harness/stack/yaml_values.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "harness/stack/values.h"

namespace faultline::stack {
namespace {

const std::vector<std::string> kHealthKeys = {
    "test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"};
const std::vector<std::string> kDependsKeys = {"condition", "restart", "required"};
const std::vector<std::string> kPortKeys = {"target", "published", "host_ip",     "protocol",
                                            "mode",   "name",      "app_protocol"};

int port_number(const std::string& text) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 0 || v > 65535) return -1;
  return v;
}

}  // namespace

std::string ValueReader::value(const YAML::Node& node, const std::string& what) {
  return interpolate(as_scalar(node, what), options_.env, at(node), &warnings_);
}

bool ValueReader::boolean(const YAML::Node& node, const std::string& what) {
  const std::string v = value(node, what);
  if (v == "true" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "no" || v == "off") return false;
  fail(node, what + ": '" + v + "' is not true or false");
}

double ValueReader::number(const YAML::Node& node, const std::string& what) {
  const std::string v = value(node, what);
  try {
    std::size_t used = 0;
    double d = std::stod(v, &used);
    if (used == v.size() && d >= 0) return d;
  } catch (const std::exception&) {
  }
  fail(node, what + ": '" + v + "' is not a non-negative number");
}

int ValueReader::integer(const YAML::Node& node, const std::string& what, int min, int max) {
  const std::string v = value(node, what);
  int out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || out < min || out > max) {
    fail(node, what + ": '" + v + "' is not an integer from " + std::to_string(min) + " to " +
                   std::to_string(max));
  }
  return out;
}

std::uint64_t ValueReader::size(const YAML::Node& node, const std::string& what) {
  const std::string v = value(node, what);
  if (auto s = parse_size(v)) return *s;
  fail(node, what + ": '" + v + "' is not a size (like 512mb, 1g, 100k or a number of bytes)");
}

std::chrono::milliseconds ValueReader::duration(const YAML::Node& node, const std::string& what) {
  const std::string v = value(node, what);
  if (auto d = parse_duration(v)) return *d;
  fail(node, what + ": '" + v + "' is not a duration (like 30s, 1m30s, 500ms)");
}

std::vector<std::string> ValueReader::command(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::vector<std::string> out;
    for (const auto& item : node) out.push_back(value(item, "a command word"));
    return out;
  }
  const std::string line = value(node, "'command'");
  auto words = split_words(line);
  if (!words) fail(node, "unclosed quote in command '" + line + "'");
  return *words;
}

std::map<std::string, std::string> ValueReader::environment(const YAML::Node& node) {
  std::map<std::string, std::string> env;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string name = YamlReader::key(kv.first);
      env[name] = kv.second.IsNull() ? options_.env(name).value_or("")
                                     : value(kv.second, "environment." + name);
    }
    return env;
  }
  if (!node.IsSequence()) fail(node, "'environment' must be a mapping or a list of KEY=value");
  for (const auto& item : node) {
    const std::string entry = value(item, "an environment entry");
    const auto eq = entry.find('=');
    if (eq == 0) fail(item, "environment entry '" + entry + "' has no name");
    if (eq == std::string::npos) {
      env[entry] = options_.env(entry).value_or("");
    } else {
      env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  return env;
}

std::vector<Dependency> ValueReader::depends_on(const YAML::Node& node) {
  std::vector<Dependency> deps;
  if (node.IsSequence()) {
    for (const auto& item : node)
      deps.push_back({value(item, "a dependency"), Condition::started, true, at(item)});
    return deps;
  }
  if (!node.IsMap()) fail(node, "'depends_on' must be a list or a mapping");
  for (const auto& kv : node) {
    Dependency d;
    d.service = key(kv.first);
    d.where = at(kv.first);
    if (kv.second.IsMap()) {
      check_keys(kv.second, kDependsKeys, "depends_on." + d.service);
      const std::string condition = scalar(kv.second, "condition", false, d.service);
      if (condition.empty() || condition == "service_started") {
        d.condition = Condition::started;
      } else if (condition == "service_healthy") {
        d.condition = Condition::healthy;
      } else if (condition == "service_completed_successfully") {
        d.condition = Condition::completed_successfully;
      } else {
        fail(kv.second["condition"], "unknown condition '" + condition +
                                         "' (expected service_started, service_healthy or "
                                         "service_completed_successfully)");
      }
      if (kv.second["required"]) d.required = boolean(kv.second["required"], "'required'");
    }
    deps.push_back(std::move(d));
  }
  return deps;
}

HealthCheck ValueReader::healthcheck(const YAML::Node& node) {
  check_keys(node, kHealthKeys, "'healthcheck'");
  HealthCheck h;
  if (const auto test = node["test"]) {
    if (test.IsScalar()) {
      h.test = {"CMD-SHELL", value(test, "'test'")};
    } else {
      h.test = command(test);
      if (h.test.empty() ||
          (h.test[0] != "CMD" && h.test[0] != "CMD-SHELL" && h.test[0] != "NONE")) {
        fail(test, "a healthcheck test list starts with CMD, CMD-SHELL or NONE");
      }
      if (h.test[0] == "NONE") h.disabled = true;
    }
  }
  if (node["interval"]) h.interval = duration(node["interval"], "'interval'");
  if (node["timeout"]) h.timeout = duration(node["timeout"], "'timeout'");
  if (node["start_period"]) h.start_period = duration(node["start_period"], "'start_period'");
  if (node["retries"]) h.retries = integer(node["retries"], "'retries'", 0, 1'000'000);
  if (node["disable"]) h.disabled = boolean(node["disable"], "'disable'");
  return h;
}

RestartPolicy ValueReader::restart(const YAML::Node& node) {
  const std::string v = value(node, "'restart'");
  RestartPolicy r;
  if (v == "no" || v == "false") {
    r.mode = RestartPolicy::Mode::no;
  } else if (v == "always") {
    r.mode = RestartPolicy::Mode::always;
  } else if (v == "unless-stopped") {
    r.mode = RestartPolicy::Mode::unless_stopped;
  } else if (v.rfind("on-failure", 0) == 0) {
    r.mode = RestartPolicy::Mode::on_failure;
    if (v.size() > 10) {
      const int n = v[10] == ':' ? port_number(v.substr(11)) : -1;
      if (n < 0) fail(node, "restart: '" + v + "' (expected on-failure or on-failure:N)");
      r.max_retries = n;
    }
  } else {
    fail(node, "unknown restart policy '" + v +
                   "' (expected no, always, on-failure[:N] or "
                   "unless-stopped)");
  }
  return r;
}

PortMapping ValueReader::port(const YAML::Node& node) {
  PortMapping p;
  if (node.IsMap()) {
    check_keys(node, kPortKeys, "a port");
    p.container_port = integer(node["target"] ? node["target"] : node, "'target'", 1, 65535);
    if (node["published"]) p.host_port = integer(node["published"], "'published'", 0, 65535);
    if (node["host_ip"]) p.host_ip = value(node["host_ip"], "'host_ip'");
    if (node["protocol"]) p.protocol = value(node["protocol"], "'protocol'");
    return p;
  }
  std::string spec = value(node, "a port");
  if (auto slash = spec.find('/'); slash != std::string::npos) {
    p.protocol = spec.substr(slash + 1);
    spec.resize(slash);
  }
  std::vector<std::string> parts;
  std::stringstream in(spec);
  for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
  if (parts.size() == 3) p.host_ip = parts[0];
  const int container = parts.empty() ? -1 : port_number(parts.back());
  const int host = parts.size() >= 2 ? port_number(parts[parts.size() - 2]) : 0;
  if (parts.empty() || parts.size() > 3 || container <= 0 || host < 0 ||
      (p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "sctp")) {
    fail(node, "bad port mapping '" + value(node, "a port") +
                   "' (expected PORT, HOST:PORT or IP:HOST:PORT, optionally /tcp or /udp)");
  }
  p.container_port = container;
  p.host_port = host;
  return p;
}

std::optional<std::vector<std::string>> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < line.size()) {
        word += line[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) return std::nullopt;
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::string read_input_file(const std::filesystem::path& file, const std::string& what) {
  std::ifstream in(file);
  if (!in) throw InputError({file.string()}, "cannot read " + what);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace faultline::stack
