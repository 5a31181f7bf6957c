// YamlReader: reading a user's YAML file with errors that name the file, line and column.
//
// Shared by every loader of user input (the requirement matrix, stack files, compose files,
// scenarios). It wraps yaml-cpp: parse errors, unknown keys (with "did you mean"), wrong shapes and
// missing required keys all become InputError at the node's position.
//
// Thread safety: a YamlReader holds only the file name; it may be shared.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "harness/core/error.h"

namespace faultline {

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  // Parses `text`; an empty document is an error naming `what` ("matrix file", "stack file").
  YAML::Node parse(std::string_view text, const std::string& what) const;

  SourceLocation at(const YAML::Node& node) const;
  [[noreturn]] void fail(const YAML::Node& node, const std::string& problem) const;

  // `map` must be a mapping whose keys are all in `allowed` (and, with `extensions`, keys
  // starting with "x-", as compose allows).
  void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                  const std::string& what, bool extensions = false) const;
  // The scalar under `key`, "" if absent and not required.
  std::string scalar(const YAML::Node& map, const char* key, bool required,
                     const std::string& what) const;
  // A list of scalars under `key` (a single scalar counts as a list of one); empty if absent.
  std::vector<std::string> strings(const YAML::Node& map, const char* key) const;
  // The node itself as a scalar, with an error naming `what` if it is not one.
  std::string as_scalar(const YAML::Node& node, const std::string& what) const;
  // A mapping's key as a name; fails (file:line) for a key that is itself a list or mapping.
  std::string key(const YAML::Node& node) const;

 private:
  std::string file_;
};

}  // namespace faultline
