#include "harness/ops/exposition.h"

#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "harness/core/error.h"

namespace faultline::ops {
namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

std::string to_prometheus_text(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const auto& f : families) {
    out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += "{";
        bool first = true;
        for (const auto& [k, v] : s.labels) {
          out += (first ? "" : ",") + k + "=\"" + escape_label(v) + "\"";
          first = false;
        }
        out += "}";
      }
      out += " " + number(s.value) + "\n";
    }
  }
  return out;
}

std::vector<MetricFamily> parse_prometheus_text(std::string_view text) {
  std::vector<MetricFamily> families;
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  auto fail = [&](const std::string& what) {
    throw Error("metrics text line " + std::to_string(lineno) + ": " + what + ": " + line);
  };
  auto family = [&](const std::string& name) -> MetricFamily& {
    if (families.empty() || families.back().name != name)
      families.push_back({name, "", "untyped", {}});
    return families.back();
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, rest;
      words >> name;
      std::getline(words, rest);
      if (name.empty()) fail("no metric name");
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (line[2] == 'H')
        family(name).help = rest;
      else
        family(name).type = rest;
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    std::size_t pos = line.find_first_of("{ ");
    if (pos == std::string::npos) fail("no value");
    const std::string name = line.substr(0, pos);
    if (line[pos] == '{') {
      const auto close = line.find('}', pos);
      if (close == std::string::npos) fail("unclosed label set");
      std::string labels = line.substr(pos + 1, close - pos - 1);
      std::size_t i = 0;
      while (i < labels.size()) {
        const auto eq = labels.find('=', i);
        if (eq == std::string::npos || eq + 1 >= labels.size() || labels[eq + 1] != '"') {
          fail("bad label");
        }
        std::string key = labels.substr(i, eq - i), value;
        std::size_t j = eq + 2;
        for (; j < labels.size() && labels[j] != '"'; ++j) {
          if (labels[j] == '\\' && j + 1 < labels.size()) {
            ++j;
            value += labels[j] == 'n' ? '\n' : labels[j];
          } else {
            value += labels[j];
          }
        }
        if (j >= labels.size()) fail("unclosed label value");
        s.labels[key] = value;
        i = j + 1;
        if (i < labels.size() && labels[i] == ',') ++i;
      }
      pos = close + 1;
    }
    std::string value = line.substr(pos);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (auto sp = value.find(' '); sp != std::string::npos) value.resize(sp);  // a timestamp
    try {
      std::size_t used = 0;
      s.value = value == "+Inf" ? INFINITY : value == "-Inf" ? -INFINITY : std::stod(value, &used);
      if (value != "+Inf" && value != "-Inf" && value != "NaN" && used != value.size())
        fail("bad value");
    } catch (const std::invalid_argument&) {
      fail("bad value");
    }
    family(name).samples.push_back(std::move(s));
  }
  return families;
}

bool follows_naming_convention(std::string_view name) {
  int parts = 1;
  for (char c : name) {
    if (c == '_')
      ++parts;
    else if (!(std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c))))
      return false;
  }
  if (parts < 4) return false;
  for (std::string_view unit : {"_seconds", "_bytes", "_percent", "_ratio", "_total", "_info"}) {
    if (name.size() > unit.size() && name.substr(name.size() - unit.size()) == unit) return true;
  }
  return false;
}

}  // namespace faultline::ops
