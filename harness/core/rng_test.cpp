#include "harness/core/rng.h"

#include <cstdlib>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "harness/core/error.h"
#include "harness/testing/covers.h"

namespace faultline {
namespace {

TEST(Rng, SameSeedSameSequence) {
  Rng a(1234), b(1234);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(Rng, KnownValuesPinTheAlgorithm) {
  // A seed must mean the same schedule on every machine and in every version; if these change,
  // every seed recorded in a report stops reproducing its run.
  Rng r(0);
  EXPECT_EQ(r.next(), 11091344671253066420ULL);
  EXPECT_EQ(r.next(), 13793997310169335082ULL);
  EXPECT_EQ(Rng(42).uniform(0, 1'000'000), 83863u);
  EXPECT_EQ(Rng(42).child("fault/latency").next(), 3386107321206392783ULL);
}

TEST(Rng, ChildStreamsDependOnlyOnSeedAndName) {
  Rng parent(99);
  Rng c1 = parent.child("fault/latency");
  for (int i = 0; i < 50; ++i) parent.next();  // the parent drawing changes nothing
  Rng c2 = parent.child("fault/latency");
  EXPECT_EQ(c1.next(), c2.next());
  EXPECT_NE(parent.child("a").next(), parent.child("b").next());
}

TEST(Rng, AddingAConsumerDoesNotShiftAnother) {
  Rng run(7);
  Rng before = run.child("workload");
  Rng unrelated = run.child("new-fault");
  unrelated.next();
  Rng after = run.child("workload");
  for (int i = 0; i < 100; ++i) ASSERT_EQ(before.next(), after.next());
}

TEST(Rng, UniformStaysInRangeAndHitsEveryValue) {
  Rng rng = Rng(testing::run_seed()).child("uniform");
  testing::record_seed(testing::run_seed());
  std::map<std::uint64_t, int> seen;
  for (int i = 0; i < 6000; ++i) {
    auto v = rng.uniform(1, 6);
    ASSERT_GE(v, 1u);
    ASSERT_LE(v, 6u);
    ++seen[v];
  }
  EXPECT_EQ(seen.size(), 6u);
  for (auto [v, n] : seen) EXPECT_GT(n, 700) << v;  // ~1000 each; 700 is ~10 sigma away
  EXPECT_EQ(rng.uniform(5, 5), 5u);
  EXPECT_LE(rng.uniform_signed(-3, -1), -1);
  EXPECT_GE(rng.uniform_signed(-3, -1), -3);
}

TEST(Rng, RealIsInUnitIntervalAndBernoulliRespectsEdges) {
  Rng rng = testing::test_rng();
  for (int i = 0; i < 1000; ++i) {
    double x = rng.real();
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    ASSERT_FALSE(rng.bernoulli(0.0));
    ASSERT_TRUE(rng.bernoulli(1.0));
  }
}

TEST(Seed, ParsesDecimalAndHex) {
  EXPECT_EQ(parse_seed("1234"), 1234u);
  EXPECT_EQ(parse_seed("0xff"), 255u);
  EXPECT_EQ(parse_seed("18446744073709551615"), ~0ULL);
  EXPECT_FALSE(parse_seed(""));
  EXPECT_FALSE(parse_seed("12a"));
  EXPECT_FALSE(parse_seed("-1"));
  EXPECT_FALSE(parse_seed("0x"));
}

TEST(Seed, FlagBeatsEnvironmentBeatsDrawn) {
  const char* saved = std::getenv("FAULTLINE_SEED");
  std::string keep = saved ? saved : "";
  setenv("FAULTLINE_SEED", "77", 1);
  EXPECT_EQ(choose_seed(5).seed, 5u);
  EXPECT_EQ(choose_seed(5).source, "--seed");
  EXPECT_EQ(choose_seed(std::nullopt).seed, 77u);
  EXPECT_EQ(choose_seed(std::nullopt).source, "FAULTLINE_SEED");
  setenv("FAULTLINE_SEED", "banana", 1);
  try {
    choose_seed(std::nullopt);
    ADD_FAILURE() << "a bad FAULTLINE_SEED must be an input error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("FAULTLINE_SEED"), std::string::npos);
  }
  unsetenv("FAULTLINE_SEED");
  EXPECT_EQ(choose_seed(std::nullopt).source, "drawn");
  if (saved) setenv("FAULTLINE_SEED", keep.c_str(), 1);
}

}  // namespace
}  // namespace faultline
