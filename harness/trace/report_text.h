// Text helpers shared by the report writers (internal to harness/trace).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace faultline::trace {

// Keeps the first `lines` lines and `chars` bytes of `text` (never cutting a UTF-8 sequence),
// dropping carriage returns and trailing blanks; appends `cut_marker` if anything was cut.
std::string clip(std::string text, std::size_t lines, std::size_t chars,
                 std::string_view cut_marker);

}  // namespace faultline::trace
