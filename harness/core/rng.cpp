#include "harness/core/rng.h"

#include <charconv>
#include <cstdlib>
#include <random>

#include "harness/core/error.h"

namespace faultline {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

Rng::Rng(std::uint64_t seed) : seed_(seed) {
  std::uint64_t x = seed;
  for (auto& word : s_) word = splitmix64(x);
}

Rng Rng::child(std::string_view name) const {
  std::uint64_t x = seed_ ^ rotl(fnv1a64(name), 17);
  return Rng(splitmix64(x));
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::uniform(std::uint64_t lo, std::uint64_t hi) {
  if (lo >= hi) return lo;
  const std::uint64_t span = hi - lo;
  if (span == max()) return next();
  const std::uint64_t n = span + 1;
  // Lemire's nearly-divisionless method with rejection, so every value is equally likely.
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  std::uint64_t low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = -n % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return lo + static_cast<std::uint64_t>(m >> 64);
}

std::int64_t Rng::uniform_signed(std::int64_t lo, std::int64_t hi) {
  if (lo >= hi) return lo;
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + uniform(0, span));
}

double Rng::real() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

bool Rng::bernoulli(double p) {
  if (!(p > 0.0)) return false;
  if (p >= 1.0) return true;
  return real() < p;
}

std::size_t Rng::index(std::size_t n) {
  return n == 0 ? 0 : uniform(0, n - 1);
}

std::optional<std::uint64_t> parse_seed(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

SeedChoice choose_seed(std::optional<std::uint64_t> flag) {
  if (flag) return {*flag, "--seed"};
  if (const char* env = std::getenv("FAULTLINE_SEED"); env && *env) {
    auto parsed = parse_seed(env);
    if (!parsed) {
      throw InputError({"FAULTLINE_SEED"},
                       "'" + std::string(env) + "' is not a seed (an unsigned integer, or 0x hex)");
    }
    return {*parsed, "FAULTLINE_SEED"};
  }
  std::random_device rd;
  std::uint64_t seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return {seed, "drawn"};
}

}  // namespace faultline
