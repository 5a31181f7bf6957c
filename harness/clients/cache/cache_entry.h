// CacheEntry: the envelope a CacheClient stores in Redis — the value plus its deadline on the
// harness Clock and the sequence number of the read that populated it.
//
// Wire form: "flc1:<deadline_ns>:<seq>:<value bytes>" (decimal numbers; the value is binary-safe
// and may contain ':'). `decode` returns nullopt for anything else (a value written by another
// program, a truncated entry), which the client treats as a miss and overwrites.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::clients {

struct CacheEntry {
  std::int64_t deadline_ns = 0;  // Clock::now_ns() at which the entry stops being servable
  std::uint64_t seq = 0;
  std::string value;

  std::string encode() const;
  static std::optional<CacheEntry> decode(std::string_view bytes);
};

}  // namespace faultline::clients
