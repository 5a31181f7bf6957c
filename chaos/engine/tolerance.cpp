#include "chaos/engine/tolerance.h"

#include <cmath>
#include <sstream>

namespace faultline::chaos {
namespace {

std::optional<double> number_of(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  return std::nullopt;
}

std::string text_of(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::optional<double> parse_number(const std::string& text) {
  try {
    std::size_t used = 0;
    double d = std::stod(text, &used);
    if (used != text.size() || !std::isfinite(d)) return std::nullopt;
    return d;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::string format_number(double d) {
  std::ostringstream out;
  out << d;
  return out.str();
}

}  // namespace

nlohmann::json scalar_to_json(const YAML::Node& node) {
  const std::string text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: a string
  if (text == "true" || text == "false") return text == "true";
  if (auto d = parse_number(text)) {
    if (text.find_first_of(".eE") == std::string::npos) return static_cast<std::int64_t>(*d);
    return *d;
  }
  return text;
}

bool Tolerance::accepts(const nlohmann::json& observed) const {
  switch (kind) {
    case Kind::value:
      if (observed == value) return true;
      if (auto a = number_of(observed), b = number_of(value); a && b && observed.is_number())
        return *a == *b;
      return false;
    case Kind::range: {
      auto d = number_of(observed);
      return d && *d >= low && *d <= high;
    }
    case Kind::regex:
      return std::regex_search(text_of(observed), std::regex(pattern));
    case Kind::threshold: {
      auto d = number_of(observed);
      if (!d) return false;
      if (op == "<") return *d < threshold;
      if (op == "<=") return *d <= threshold;
      if (op == ">") return *d > threshold;
      if (op == ">=") return *d >= threshold;
      if (op == "==") return *d == threshold;
      return *d != threshold;
    }
  }
  return false;
}

std::string Tolerance::describe() const {
  switch (kind) {
    case Kind::value:
      return "== " + text_of(value);
    case Kind::range:
      return "in [" + format_number(low) + ", " + format_number(high) + "]";
    case Kind::regex:
      return "~ /" + pattern + "/";
    case Kind::threshold:
      return op + " " + format_number(threshold);
  }
  return "";
}

Tolerance parse_tolerance(const YamlReader& reader, const YAML::Node& node) {
  Tolerance t;
  if (!node || node.IsNull()) reader.fail(node, "a probe needs a tolerance");
  if (node.IsScalar()) {
    t.kind = Tolerance::Kind::value;
    t.value = scalar_to_json(node);
    return t;
  }
  if (!node.IsMap() || node.size() != 1)
    reader.fail(node,
                "a tolerance is a value, or one of {range: [lo, hi]}, {regex: ...}, "
                "{threshold: \"<= N\"}");
  reader.check_keys(node, {"range", "regex", "threshold", "value"}, "tolerance");
  if (node["value"]) {
    t.kind = Tolerance::Kind::value;
    t.value = scalar_to_json(node["value"]);
  } else if (const auto r = node["range"]) {
    t.kind = Tolerance::Kind::range;
    if (!r.IsSequence() || r.size() != 2) reader.fail(r, "range must be [low, high]");
    auto lo = parse_number(r[0].Scalar()), hi = parse_number(r[1].Scalar());
    if (!lo || !hi) reader.fail(r, "range bounds must be numbers");
    if (*lo > *hi) reader.fail(r, "range low bound is above its high bound");
    t.low = *lo;
    t.high = *hi;
  } else if (const auto re = node["regex"]) {
    t.kind = Tolerance::Kind::regex;
    t.pattern = reader.as_scalar(re, "regex");
    try {
      std::regex check(t.pattern);
    } catch (const std::regex_error& e) {
      reader.fail(re, "regex does not compile: " + std::string(e.what()));
    }
  } else {
    const auto th = node["threshold"];
    t.kind = Tolerance::Kind::threshold;
    std::string text = trim(reader.as_scalar(th, "threshold"));
    for (const char* op : {"<=", ">=", "==", "!=", "<", ">"}) {
      if (text.rfind(op, 0) == 0) {
        t.op = op;
        break;
      }
    }
    auto value = t.op.empty() ? std::nullopt : parse_number(trim(text.substr(t.op.size())));
    if (!value)
      reader.fail(th, "threshold \"" + text +
                          "\" does not parse: write an operator and a number, "
                          "e.g. \"<= 0.05\"");
    t.threshold = *value;
  }
  return t;
}

}  // namespace faultline::chaos
