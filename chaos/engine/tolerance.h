// Tolerance: what a steady-state probe's value may be — an exact value, a range, a regex or a
// threshold — as Chaos Toolkit's hypothesis tolerances are.
//
// Forms in a scenario file:   tolerance: true            (value: equal to it)
//                             tolerance: {range: [0, 0.2]}
//                             tolerance: {regex: "^PONG$"}
//                             tolerance: {threshold: "<= 0.05"}   (<, <=, >, >=, ==, !=)
// `parse_tolerance` throws InputError at the node for a form that does not parse (a range whose
// bounds are not numbers or are reversed, a regex that does not compile, a threshold without an
// operator or number).
//
// Thread safety: an immutable value once parsed.
#pragma once

#include <regex>
#include <string>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "harness/core/yaml_reader.h"

namespace faultline::chaos {

struct Tolerance {
  enum class Kind { value, range, regex, threshold };
  Kind kind = Kind::value;
  nlohmann::json value = true;  // value
  double low = 0, high = 0;     // range, inclusive
  std::string pattern;          // regex (searched in the value's text)
  std::string op;               // threshold operator
  double threshold = 0;

  // True if `observed` is within tolerance.
  bool accepts(const nlohmann::json& observed) const;
  // "== true", "in [0, 0.2]", "~ /^PONG$/", "<= 0.05"
  std::string describe() const;
};

Tolerance parse_tolerance(const YamlReader& reader, const YAML::Node& node);

// A YAML scalar as JSON: booleans, integers and floats become JSON numbers/booleans.
nlohmann::json scalar_to_json(const YAML::Node& node);

}  // namespace faultline::chaos
