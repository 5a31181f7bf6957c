// Small text helpers: edit distance and "did you mean" for the input loaders, and escaping for
// the HTML and XML faultline writes.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

// Edit distance between a and b, counting an adjacent transposition as one edit.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, if it is close enough to be a plausible typo (distance at most
// a third of the word's length, and at least 1 edit allowed); empty otherwise.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "" — for error messages.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
// `text` safe inside HTML or XML text and attribute values: & < > " ' escaped.
std::string markup_escape(std::string_view text);

}  // namespace faultline
