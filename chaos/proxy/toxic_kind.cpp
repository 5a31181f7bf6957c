#include "chaos/proxy/toxic_kind.h"

#include <cmath>

#include "harness/core/text.h"

namespace faultline::proxy {
namespace {

const std::vector<const ToxicKind*>& all_kinds() {
  static const std::vector<const ToxicKind*> kinds = {
      &latency_kind(),    &bandwidth_kind(),  &slow_close_kind(),
      &timeout_kind(),    &reset_peer_kind(), &slicer_kind(),
      &limit_data_kind(), &blackhole_kind(),  &reject_first_kind(),
  };
  return kinds;
}

ApiError bad_body(const std::string& why) {
  return ApiError(400, "bad request body: " + why);
}

}  // namespace

const char* to_string(StreamDirection d) {
  return d == StreamDirection::upstream ? "upstream" : "downstream";
}

StreamDirection parse_stream(std::string_view text) {
  if (text == "upstream") return StreamDirection::upstream;
  if (text == "downstream") return StreamDirection::downstream;
  throw ApiError(400, "stream was invalid, can be either upstream or downstream");
}

const ToxicKind* find_toxic_kind(std::string_view type) {
  for (const ToxicKind* kind : all_kinds()) {
    if (kind->type == type) return kind;
  }
  return nullptr;
}

std::vector<std::string> toxic_kind_names() {
  std::vector<std::string> names;
  for (const ToxicKind* kind : all_kinds()) names.push_back(kind->type);
  return names;
}

Attributes parse_attributes(const ToxicKind& kind, const nlohmann::json& attributes,
                            const Attributes& base) {
  Attributes result = base;
  for (const AttributeSpec& spec : kind.attributes)
    result.try_emplace(spec.name, spec.default_value);
  if (attributes.is_null()) return result;
  if (!attributes.is_object()) throw bad_body("attributes must be an object");
  std::vector<std::string> names;
  for (const AttributeSpec& spec : kind.attributes) names.push_back(spec.name);
  for (const auto& [key, value] : attributes.items()) {
    const AttributeSpec* spec = nullptr;
    for (const AttributeSpec& s : kind.attributes) {
      if (s.name == key) spec = &s;
    }
    if (spec == nullptr) {
      throw bad_body("unknown attribute '" + key + "' for toxic type " + kind.type +
                     did_you_mean(key, names));
    }
    std::int64_t v = 0;
    if (value.is_number_integer()) {
      if (value.is_number_unsigned() && value.get<std::uint64_t>() > INT64_MAX) {
        throw bad_body("attribute '" + key + "' is out of range");
      }
      v = value.get<std::int64_t>();
    } else if (value.is_number_float() && std::isfinite(value.get<double>()) &&
               std::floor(value.get<double>()) == value.get<double>() &&
               std::fabs(value.get<double>()) < 9e18) {
      v = static_cast<std::int64_t>(value.get<double>());  // 100.0 is an integer in JSON
    } else {
      throw bad_body("attribute '" + key + "' must be an integer, got " +
                     value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    if (v < spec->min || v > spec->max) {
      throw bad_body("attribute '" + key + "' must be between " + std::to_string(spec->min) +
                     " and " + std::to_string(spec->max) + ", got " + std::to_string(v));
    }
    result[key] = v;
  }
  return result;
}

nlohmann::json ToxicSpec::to_json() const {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [k, v] : attributes) attrs[k] = v;
  return {{"name", name},
          {"type", type},
          {"stream", to_string(stream)},
          {"toxicity", toxicity},
          {"attributes", attrs}};
}

namespace {

double parse_toxicity(const nlohmann::json& value) {
  if (!value.is_number())
    throw bad_body("toxicity must be a number, got " +
                   value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  const double t = value.get<double>();
  if (!(t >= 0.0 && t <= 1.0)) throw bad_body("toxicity must be between 0 and 1");
  return t;
}

}  // namespace

ToxicSpec ToxicSpec::from_json(const nlohmann::json& body) {
  if (!body.is_object()) throw bad_body("expected a JSON object");
  ToxicSpec spec;
  auto string_field = [&](const char* key) -> std::string {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return "";
    if (!it->is_string()) throw bad_body(std::string(key) + " must be a string");
    return it->get<std::string>();
  };
  const std::string stream = string_field("stream");
  spec.stream = parse_stream(stream.empty() ? "downstream" : stream);
  spec.type = string_field("type");
  spec.name = string_field("name");
  if (spec.name.empty()) spec.name = spec.type + "_" + to_string(spec.stream);
  if (auto it = body.find("toxicity"); it != body.end()) spec.toxicity = parse_toxicity(*it);
  const ToxicKind* kind = find_toxic_kind(spec.type);
  if (kind == nullptr) throw ApiError(400, "invalid toxic type: " + spec.type);
  auto attrs = body.find("attributes");
  spec.attributes = parse_attributes(*kind, attrs == body.end() ? nlohmann::json() : *attrs);
  return spec;
}

ToxicSpec ToxicSpec::updated(const nlohmann::json& body) const {
  if (!body.is_object()) throw bad_body("expected a JSON object");
  ToxicSpec next = *this;
  if (auto it = body.find("toxicity"); it != body.end()) next.toxicity = parse_toxicity(*it);
  auto attrs = body.find("attributes");
  next.attributes = parse_attributes(*find_toxic_kind(type),
                                     attrs == body.end() ? nlohmann::json() : *attrs, attributes);
  return next;
}

}  // namespace faultline::proxy
