// Rng: seeded, splittable pseudo-random numbers — the only source of chance in faultline.
//
// A run has one seed. Every consumer takes its own child stream, named after its purpose
// (`rng.child("fault/latency/jitter")`). A child's seed depends only on its parent's seed and the
// name, never on how many numbers anyone has drawn, so adding a consumer does not shift the draws
// of another and a run can be replayed from its seed. The generator is xoshiro256** seeded through
// SplitMix64; the distributions are our own (not <random>'s, whose results differ between standard
// libraries), so a seed means the same schedule on every machine.
//
// Thread safety: an Rng is a value; one instance must not be used from two threads at once. Give
// each thread its own child.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline {

class Rng {
 public:
  using result_type = std::uint64_t;

  explicit Rng(std::uint64_t seed);

  std::uint64_t seed() const { return seed_; }
  // An independent stream for `name`, a pure function of (seed(), name).
  Rng child(std::string_view name) const;

  std::uint64_t next();
  result_type operator()() { return next(); }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  // Uniform integer in [lo, hi] (inclusive), without modulo bias.
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi);
  std::int64_t uniform_signed(std::int64_t lo, std::int64_t hi);
  // Uniform double in [0, 1).
  double real();
  // True with probability p (clamped to [0, 1]); p == 0 never draws true, p == 1 always does.
  bool bernoulli(double p);
  // Uniform index in [0, n); n must be > 0.
  std::size_t index(std::size_t n);

 private:
  std::uint64_t seed_;
  std::uint64_t s_[4];
};

// Where a run's seed came from, for printing and the journal.
struct SeedChoice {
  std::uint64_t seed = 0;
  std::string source;  // "--seed", "FAULTLINE_SEED" or "drawn"
};

// The run's seed: `flag` if given, else $FAULTLINE_SEED, else drawn from the OS. Throws InputError
// naming FAULTLINE_SEED if the variable is set but is not an unsigned integer (decimal or 0x hex).
SeedChoice choose_seed(std::optional<std::uint64_t> flag);
// Parses a seed written in decimal or 0x-prefixed hex; nullopt if it is not one.
std::optional<std::uint64_t> parse_seed(std::string_view text);

}  // namespace faultline
