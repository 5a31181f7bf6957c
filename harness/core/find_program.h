// find_program: where a program is on this machine, as the shell's PATH lookup finds it.
//
// Thread safety: thread-safe (reads PATH and the file system).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace faultline {

// `program`'s full path: a name with a '/' is taken as it is (if executable); otherwise the first
// executable `<dir>/<program>` over the directories of PATH (/usr/local/bin:/usr/bin:/bin when
// PATH is unset; empty entries skipped). nullopt when there is none.
std::optional<std::filesystem::path> find_program(const std::string& program);

}  // namespace faultline
