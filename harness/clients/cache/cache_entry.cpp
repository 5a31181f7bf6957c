#include "harness/clients/cache/cache_entry.h"

#include <charconv>

namespace faultline::clients {
namespace {

constexpr std::string_view kMagic = "flc1:";

// Parses a decimal number up to the next ':' and advances past it.
template <class Int>
bool take_number(std::string_view& in, Int& out) {
  const auto colon = in.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const auto [ptr, ec] = std::from_chars(in.data(), in.data() + colon, out);
  if (ec != std::errc() || ptr != in.data() + colon) return false;
  in.remove_prefix(colon + 1);
  return true;
}

}  // namespace

std::string CacheEntry::encode() const {
  std::string out(kMagic);
  out += std::to_string(deadline_ns);
  out += ':';
  out += std::to_string(seq);
  out += ':';
  out += value;
  return out;
}

std::optional<CacheEntry> CacheEntry::decode(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  bytes.remove_prefix(kMagic.size());
  CacheEntry entry;
  if (!take_number(bytes, entry.deadline_ns) || !take_number(bytes, entry.seq)) return std::nullopt;
  entry.value = std::string(bytes);
  return entry;
}

}  // namespace faultline::clients
