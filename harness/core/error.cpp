#include "harness/core/error.h"

namespace faultline {

std::string SourceLocation::str() const {
  std::string out = file;
  if (line > 0) {
    out += (out.empty() ? "line " : ":") + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

namespace {
std::string render(const SourceLocation& where, const std::string& problem) {
  std::string loc = where.str();
  return loc.empty() ? problem : loc + ": " + problem;
}
}  // namespace

InputError::InputError(SourceLocation where, std::string problem)
    : Error(render(where, problem)), where_(std::move(where)), problem_(std::move(problem)) {}

}  // namespace faultline
