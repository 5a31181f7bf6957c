#include "harness/core/yaml_reader.h"

#include <algorithm>

#include "harness/core/text.h"

namespace faultline {

YAML::Node YamlReader::parse(std::string_view text, const std::string& what) const {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    throw InputError({file_, e.mark.line + 1, e.mark.column + 1}, e.msg);
  }
  if (!root || root.IsNull()) throw InputError({file_}, "empty " + what);
  return root;
}

SourceLocation YamlReader::at(const YAML::Node& node) const {
  // An entry of a mapping iterated as if it were a list has no mark (and is not a node).
  if (!node.IsDefined()) return {file_};
  const auto mark = node.Mark();
  if (mark.is_null()) return {file_};
  return {file_, mark.line + 1, mark.column + 1};
}

void YamlReader::fail(const YAML::Node& node, const std::string& problem) const {
  throw InputError(at(node), problem);
}

void YamlReader::check_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                            const std::string& what, bool extensions) const {
  if (!map.IsDefined()) fail(map, what + " must be an item of a list, not of a mapping");
  if (!map.IsMap()) fail(map, what + " must be a mapping");
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) fail(kv.first, "a key in " + what + " must be a plain name");
    const auto key = kv.first.as<std::string>();
    if (extensions && key.rfind("x-", 0) == 0) continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      fail(kv.first, "unknown key '" + key + "' in " + what + did_you_mean(key, allowed));
    }
  }
}

std::string YamlReader::scalar(const YAML::Node& map, const char* key, bool required,
                               const std::string& what) const {
  const YAML::Node node = map[key];
  if (!node) {
    if (required) fail(map, what + " has no '" + key + "'");
    return {};
  }
  return as_scalar(node, std::string("'") + key + "'");
}

std::string YamlReader::as_scalar(const YAML::Node& node, const std::string& what) const {
  if (!node.IsDefined() || !node.IsScalar()) fail(node, what + " must be a single value");
  return node.as<std::string>();
}

std::string YamlReader::key(const YAML::Node& node) const {
  if (!node.IsScalar()) fail(node, "a key must be a plain name, not a list or mapping");
  return node.as<std::string>();
}

std::vector<std::string> YamlReader::strings(const YAML::Node& map, const char* key) const {
  std::vector<std::string> out;
  const YAML::Node node = map[key];
  if (!node) return out;
  if (node.IsScalar()) return {node.as<std::string>()};
  if (!node.IsSequence()) fail(node, std::string("'") + key + "' must be a list of values");
  for (const auto& item : node) {
    out.push_back(as_scalar(item, std::string("each item of '") + key + "'"));
  }
  return out;
}

}  // namespace faultline
