// Catalogue: the scenario files of scenarios/ by name, and finding one from a command line.
//
// The directory is $FAULTLINE_SCENARIOS, else the source tree's scenarios/ (compiled in), else
// ./scenarios. A name on the command line is a catalogue name, or a path to a .yaml file (a shrunk
// scenario, a fixture). An unknown name is a UsageError with "did you mean".
//
// Thread safety: pure functions (they read the directory).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace faultline::chaos {

struct CatalogueEntry {
  std::string name;  // file stem
  std::filesystem::path file;
};

std::filesystem::path catalogue_dir();
// Every *.yaml of `dir`, sorted by name.
std::vector<CatalogueEntry> list_catalogue(const std::filesystem::path& dir);
// The file of `name_or_path`.
std::filesystem::path find_scenario(const std::string& name_or_path,
                                    const std::filesystem::path& dir);

}  // namespace faultline::chaos
