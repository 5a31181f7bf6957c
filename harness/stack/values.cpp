#include "harness/stack/values.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "harness/core/redact.h"

namespace faultline::stack {
namespace {

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

std::optional<std::string> lookup(const EnvLookup& env, const std::string& name) {
  auto value = env(name);
  if (value && Redactor::is_secret_name(name)) Redactor::process().add(*value);
  return value;
}

// Splits a number with an optional fractional part from its unit: "1.5s" -> (1.5, "s").
bool number_and_unit(std::string_view text, double& number, std::string& unit) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  if (i == 0) return false;
  std::string digits(text.substr(0, i));
  char* end = nullptr;
  number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(number)) return false;
  unit.clear();
  for (char c : text.substr(i))
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

}  // namespace

std::string interpolate(std::string_view text, const EnvLookup& env, const SourceLocation& where,
                        std::vector<std::string>* warnings) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name, op, operand;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      // The matching brace: a default may itself hold ${...}.
      std::size_t close = std::string_view::npos;
      for (std::size_t j = i + 2, depth = 1; j < text.size(); ++j) {
        if (text[j] == '{' && text[j - 1] == '$') ++depth;
        if (text[j] == '}' && --depth == 0) {
          close = j;
          break;
        }
      }
      if (close == std::string_view::npos) {
        throw InputError(where, "unterminated ${ in '" + std::string(text) + "'");
      }
      std::string_view inner = text.substr(i + 2, close - i - 2);
      std::size_t n = 0;
      while (n < inner.size() && name_char(inner[n], n == 0)) ++n;
      name = std::string(inner.substr(0, n));
      std::string_view rest = inner.substr(n);
      if (name.empty())
        throw InputError(where, "bad variable name in '${" + std::string(inner) + "}'");
      for (std::string_view candidate : {":-", ":?", "-", "?"}) {
        if (rest.substr(0, candidate.size()) == candidate) {
          op = candidate;
          operand = std::string(rest.substr(candidate.size()));
          break;
        }
      }
      if (op.empty() && !rest.empty()) {
        throw InputError(where, "bad substitution '${" + std::string(inner) + "}'");
      }
      i = close;
    } else {
      std::size_t n = i + 1;
      while (n < text.size() && name_char(text[n], n == i + 1)) ++n;
      if (n == i + 1) {  // a lone '$' stays as it is, as compose leaves it
        out += '$';
        continue;
      }
      name = std::string(text.substr(i + 1, n - i - 1));
      i = n - 1;
    }
    const auto value = lookup(env, name);
    const bool unset = !value, empty = value && value->empty();
    if (op == ":-" && (unset || empty)) {
      out += interpolate(operand, env, where, warnings);
    } else if (op == "-" && unset) {
      out += interpolate(operand, env, where, warnings);
    } else if ((op == ":?" && (unset || empty)) || (op == "?" && unset)) {
      throw InputError(where, "required variable " + name + " is not set" +
                                  (operand.empty() ? "" : ": " + operand));
    } else if (unset) {
      if (warnings) {
        warnings->push_back(where.str() + ": variable " + name + " is not set; using \"\"");
      }
    } else {
      out += *value;
    }
  }
  return out;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) {
      ++j;
    }
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    double number = 0;
    std::string unit;
    if (!number_and_unit(text.substr(i, k - i), number, unit)) return std::nullopt;
    double scale = 0;
    if (unit.empty()) {
      if (i != 0 || k != text.size()) return std::nullopt;  // "10" alone means seconds
      scale = 1000;
    } else {
      if (unit == "h")
        scale = 3'600'000;
      else if (unit == "m")
        scale = 60'000;
      else if (unit == "s")
        scale = 1000;
      else if (unit == "ms")
        scale = 1;
      else if (unit == "us" || unit == "µs")
        scale = 0.001;
      else if (unit == "ns")
        scale = 0.000001;
      else
        return std::nullopt;
    }
    total_ms += number * scale;
    i = k;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total_ms)));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  double number = 0;
  std::string unit;
  if (!number_and_unit(text, number, unit)) return std::nullopt;
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();     // "mb" -> "m"
  if (unit.size() == 2 && unit.back() == 'i') unit.pop_back();  // "gi" -> "g"
  double scale = 0;
  if (unit.empty())
    scale = 1;
  else if (unit == "k")
    scale = 1024.0;
  else if (unit == "m")
    scale = 1024.0 * 1024;
  else if (unit == "g")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "t")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else
    return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(number * scale));
}

}  // namespace faultline::stack
