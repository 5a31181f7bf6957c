// Values in stack and compose files: ${VAR} interpolation, durations and sizes, each with the
// error a user needs (what was wrong, where).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/stack/stack.h"

namespace faultline::stack {

// Compose's interpolation: $VAR, ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default}
// (unset), ${VAR:?message} / ${VAR?message} (error), and $$ for a literal $. A variable that is
// unset and has no default becomes "" and adds a warning. Values of secret-named variables are
// registered with the process Redactor. Throws InputError at `where` on a malformed expression.
std::string interpolate(std::string_view text, const EnvLookup& env, const SourceLocation& where,
                        std::vector<std::string>* warnings);

// "1m30s", "10s", "500ms", "2h", "1.5s", "250us"; a bare number is seconds. nullopt if malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// "512mb", "1g", "100k", "2GiB", "1024"; binary units (k = 1024). nullopt if malformed.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace faultline::stack
