// ValueReader: the YamlReader of stack and compose files — every scalar is interpolated from the
// environment, and the value types both formats share (commands, environments, health checks,
// restart policies, ports, durations, sizes) are read here once, with errors at the node.
//
// Thread safety: one loader per thread (it collects warnings).
#pragma once

#include <string>
#include <vector>

#include "harness/core/yaml_reader.h"
#include "harness/stack/stack.h"

namespace faultline::stack {

class ValueReader : public YamlReader {
 public:
  ValueReader(std::string file, const LoadOptions& options)
      : YamlReader(std::move(file)), options_(options) {}

  const LoadOptions& options() const { return options_; }
  std::vector<std::string> take_warnings() { return std::move(warnings_); }

  // A scalar, with ${VAR} interpolation.
  std::string value(const YAML::Node& node, const std::string& what);
  bool boolean(const YAML::Node& node, const std::string& what);
  double number(const YAML::Node& node, const std::string& what);
  int integer(const YAML::Node& node, const std::string& what, int min, int max);
  std::uint64_t size(const YAML::Node& node, const std::string& what);
  std::chrono::milliseconds duration(const YAML::Node& node, const std::string& what);

  // A command as a list, or a string split as a shell would (quotes, backslashes).
  std::vector<std::string> command(const YAML::Node& node);
  // A mapping, or a list of KEY=value (a bare KEY takes its value from the environment).
  std::map<std::string, std::string> environment(const YAML::Node& node);
  // A list of names (condition service_started), or compose's long form with conditions.
  std::vector<Dependency> depends_on(const YAML::Node& node);
  HealthCheck healthcheck(const YAML::Node& node);
  RestartPolicy restart(const YAML::Node& node);
  // "80", "8080:80", "127.0.0.1:5432:5432", "53:53/udp", or the long form.
  PortMapping port(const YAML::Node& node);
  // A `wait:` strategy (wait_reader.cpp; the grammar is in fixtures/stacks/README.md), checked
  // as far as a file can be: unknown strategies with the nearest one, bad regexes and ports.
  WaitSpec wait(const YAML::Node& node);

 private:
  LoadOptions options_;
  std::vector<std::string> warnings_;
};

// Splits a command line as a POSIX shell splits words (no expansion). nullopt on an unclosed quote.
std::optional<std::vector<std::string>> split_words(std::string_view line);
// Reads a whole input file; InputError naming it if it cannot be read.
std::string read_input_file(const std::filesystem::path& file, const std::string& what);

}  // namespace faultline::stack
