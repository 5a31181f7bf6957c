#include "chaos/engine/catalogue.h"

#include <algorithm>
#include <cstdlib>

#include "harness/core/error.h"
#include "harness/core/text.h"

namespace faultline::chaos {

std::filesystem::path catalogue_dir() {
  if (const char* env = std::getenv("FAULTLINE_SCENARIOS"); env && *env) return env;
#ifdef FAULTLINE_SCENARIOS_DIR
  if (std::filesystem::is_directory(FAULTLINE_SCENARIOS_DIR)) return FAULTLINE_SCENARIOS_DIR;
#endif
  return "scenarios";
}

std::vector<CatalogueEntry> list_catalogue(const std::filesystem::path& dir) {
  std::vector<CatalogueEntry> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".yaml")
      out.push_back({e.path().stem().string(), e.path()});
  if (ec)
    throw UsageError("cannot read the scenario catalogue " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::filesystem::path find_scenario(const std::string& name, const std::filesystem::path& dir) {
  if (name.size() > 5 && name.substr(name.size() - 5) == ".yaml") {
    if (!std::filesystem::exists(name)) throw UsageError("no scenario file " + name);
    return name;
  }
  std::vector<std::string> names;
  for (const auto& e : list_catalogue(dir)) {
    if (e.name == name) return e.file;
    names.push_back(e.name);
  }
  throw UsageError("no scenario '" + name + "' in " + dir.string() + did_you_mean(name, names));
}

}  // namespace faultline::chaos
