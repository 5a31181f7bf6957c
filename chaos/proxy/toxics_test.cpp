// Every toxic driven through a ToxicChain on a ManualClock, with a recording sink: no sockets,
// nothing sleeps, time moves only when the test advances it.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chaos/proxy/toxic_chain.h"
#include "chaos/proxy/toxic_kind.h"
#include "harness/core/clock.h"

namespace faultline::proxy {
namespace {

using namespace std::chrono_literals;

struct Recorder : ChainSink {
  struct Piece {
    Duration at;
    std::string data;
  };
  explicit Recorder(ManualClock& c) : clock(c) {}
  void write(std::string data) override {
    pieces.push_back({clock.now().time_since_epoch(), std::move(data)});
  }
  void end() override { ended_at = clock.now().time_since_epoch(); }
  void discarded(std::size_t bytes) override { dropped += bytes; }
  void close_link() override { ++closes; }
  void reset_link() override { ++resets; }

  std::string all() const {
    std::string s;
    for (const auto& p : pieces) s += p.data;
    return s;
  }

  ManualClock& clock;
  std::vector<Piece> pieces;
  std::optional<Duration> ended_at;
  std::size_t dropped = 0;
  int closes = 0;
  int resets = 0;
};

struct ChainTest : ::testing::Test {
  ManualClock clock;
  Recorder sink{clock};
  ToxicChain chain{clock, [](std::function<void()> fn) { fn(); }, sink};

  void add(const std::string& type, const nlohmann::json& attrs, const std::string& name = "t",
           std::uint64_t seed = 7) {
    const ToxicKind* kind = find_toxic_kind(type);
    ASSERT_NE(kind, nullptr);
    chain.add(name, *kind, parse_attributes(*kind, attrs), Rng(seed));
  }
};

TEST_F(ChainTest, EmptyChainPassesStraightThrough) {
  chain.push("abc");
  chain.push_eof();
  ASSERT_EQ(sink.pieces.size(), 1u);
  EXPECT_EQ(sink.pieces[0].at, 0ns);
  EXPECT_EQ(sink.ended_at, 0ns);
}

TEST_F(ChainTest, LatencyDelaysEachChunkByExactlyTheLatency) {
  add("latency", {{"latency", 200}});
  chain.push("ping");
  clock.advance(199ms);
  EXPECT_TRUE(sink.pieces.empty());
  clock.advance(1ms);
  ASSERT_EQ(sink.pieces.size(), 1u);
  EXPECT_EQ(sink.pieces[0].at, 200ms);
  chain.push("pong");
  chain.push_eof();
  clock.advance(300ms);
  ASSERT_EQ(sink.pieces.size(), 2u);
  EXPECT_EQ(sink.pieces[1].at, 400ms);
  EXPECT_EQ(sink.ended_at, 400ms);  // the end follows the data, not before it
}

TEST_F(ChainTest, LatencyJitterStaysInRangeKeepsOrderAndRepeatsWithTheSeed) {
  auto run = [](std::uint64_t seed) {
    ManualClock clock;
    Recorder sink(clock);
    ToxicChain chain(
        clock, [](std::function<void()> fn) { fn(); }, sink);
    const ToxicKind& kind = *find_toxic_kind("latency");
    chain.add("l", kind, parse_attributes(kind, {{"latency", 100}, {"jitter", 50}}), Rng(seed));
    for (int i = 0; i < 50; ++i) {
      chain.push(std::to_string(i) + ",");
      clock.advance(10ms);
    }
    clock.advance(1s);
    return sink.pieces;
  };
  const auto a = run(1);
  const auto b = run(1);
  ASSERT_EQ(a.size(), 50u);
  std::string joined;
  for (std::size_t i = 0; i < a.size(); ++i) {
    joined += a[i].data;
    EXPECT_EQ(a[i].at, b[i].at);
    const Duration sent = std::chrono::milliseconds(10 * i);
    EXPECT_GE(a[i].at, sent + 50ms);
    if (i > 0) {
      EXPECT_GE(a[i].at, a[i - 1].at);
    }
  }
  std::string expected;
  for (int i = 0; i < 50; ++i) expected += std::to_string(i) + ",";
  EXPECT_EQ(joined, expected);
  bool any_differs = false;
  for (std::size_t i = 0; i < a.size(); ++i)
    any_differs |= a[i].at != std::chrono::milliseconds(10 * i) + 100ms;
  EXPECT_TRUE(any_differs) << "jitter drew nothing";
}

TEST_F(ChainTest, RemovingLatencyReleasesHeldDataInOrder) {
  add("latency", {{"latency", 1000}});
  chain.push("a");
  chain.push("b");
  EXPECT_TRUE(chain.remove("t"));
  ASSERT_EQ(sink.pieces.size(), 2u);
  EXPECT_EQ(sink.all(), "ab");
  EXPECT_EQ(clock.pending(), 0u);  // its timer is gone too
}

TEST_F(ChainTest, BandwidthPacesAtTheRate) {
  add("bandwidth", {{"rate", 100}});     // 100 KB/s = 100 bytes per ms
  chain.push(std::string(10'000, 'x'));  // 100 ms worth
  clock.advance(50ms);
  EXPECT_EQ(sink.all().size(), 5'000u);
  clock.advance(50ms);
  EXPECT_EQ(sink.all().size(), 10'000u);
  EXPECT_EQ(sink.pieces.back().at, 100ms);
}

TEST_F(ChainTest, BandwidthZeroIsUnlimited) {
  add("bandwidth", {{"rate", 0}});
  chain.push("abc");
  EXPECT_EQ(sink.all(), "abc");
}

TEST_F(ChainTest, SlowCloseDelaysOnlyTheEnd) {
  add("slow_close", {{"delay", 300}});
  chain.push("data");
  EXPECT_EQ(sink.all(), "data");
  chain.push_eof();
  clock.advance(299ms);
  EXPECT_FALSE(sink.ended_at);
  clock.advance(1ms);
  EXPECT_EQ(sink.ended_at, 300ms);
}

TEST_F(ChainTest, TimeoutClosesTheLinkAfterTimeoutAndPassesNothing) {
  add("timeout", {{"timeout", 500}});
  chain.push("lost");
  clock.advance(499ms);
  EXPECT_EQ(sink.closes, 0);
  clock.advance(1ms);
  EXPECT_EQ(sink.closes, 1);
  EXPECT_TRUE(sink.pieces.empty());
}

TEST_F(ChainTest, TimeoutZeroHoldsDataUntilRemoved) {
  add("timeout", {{"timeout", 0}});
  chain.push("held");
  chain.push_eof();
  clock.advance(1h);
  EXPECT_TRUE(sink.pieces.empty());
  EXPECT_EQ(sink.closes, 0);
  chain.remove("t");
  EXPECT_EQ(sink.all(), "held");
  EXPECT_TRUE(sink.ended_at);
}

TEST_F(ChainTest, ResetPeerResetsAfterTimeoutAndLetsDataThroughBefore) {
  add("reset_peer", {{"timeout", 100}});
  chain.push("before");
  EXPECT_EQ(sink.all(), "before");
  clock.advance(100ms);
  EXPECT_EQ(sink.resets, 1);
}

TEST_F(ChainTest, ResetPeerZeroResetsOnFirstData) {
  add("reset_peer", {{"timeout", 0}});
  EXPECT_EQ(sink.resets, 0);
  chain.push("x");
  EXPECT_EQ(sink.resets, 1);
  EXPECT_TRUE(sink.pieces.empty());
}

TEST_F(ChainTest, SlicerCutsIntoSlicesWithDelays) {
  add("slicer", {{"average_size", 10}, {"size_variation", 3}, {"delay", 1000}});
  const std::string data(200, 'z');
  chain.push(data);
  clock.advance(1s);
  EXPECT_EQ(sink.all(), data);
  ASSERT_GT(sink.pieces.size(), 10u);
  for (std::size_t i = 0; i < sink.pieces.size(); ++i) {
    EXPECT_LE(sink.pieces[i].data.size(), 13u);
    if (i + 1 < sink.pieces.size()) {
      EXPECT_GE(sink.pieces[i].data.size(), 7u);
    }
    EXPECT_EQ(sink.pieces[i].at, std::chrono::microseconds(1000 * i));
  }
}

TEST_F(ChainTest, LimitDataCutsExactlyAtTheLimit) {
  add("limit_data", {{"bytes", 10}});
  chain.push("0123456");
  EXPECT_EQ(sink.closes, 0);
  chain.push("789abc");
  EXPECT_EQ(sink.all(), "0123456789");
  EXPECT_EQ(sink.closes, 1);
  EXPECT_EQ(sink.dropped, 3u);
  chain.push("more");
  EXPECT_EQ(sink.all(), "0123456789");
}

TEST_F(ChainTest, BlackholeDropsEverythingAndHoldsTheEndUntilHealed) {
  add("blackhole", nlohmann::json::object());
  chain.push("gone");
  chain.push_eof();
  EXPECT_TRUE(sink.pieces.empty());
  EXPECT_EQ(sink.dropped, 4u);
  EXPECT_FALSE(sink.ended_at);
  chain.remove("t");
  EXPECT_TRUE(sink.pieces.empty());
  EXPECT_TRUE(sink.ended_at);
  chain.push("after");
  EXPECT_EQ(sink.all(), "after");
}

TEST_F(ChainTest, ToxicsComposeInOrder) {
  add("latency", {{"latency", 100}}, "slow");
  add("limit_data", {{"bytes", 3}}, "cut");
  chain.push("abcdef");
  EXPECT_TRUE(sink.pieces.empty());
  clock.advance(100ms);
  EXPECT_EQ(sink.all(), "abc");
  EXPECT_EQ(sink.closes, 1);
}

TEST_F(ChainTest, ReplaceKeepsPositionAndReleasesOldData) {
  add("latency", {{"latency", 1000}}, "l");
  chain.push("a");
  const ToxicKind& kind = *find_toxic_kind("latency");
  EXPECT_TRUE(chain.replace("l", kind, parse_attributes(kind, {{"latency", 10}}), Rng(1)));
  EXPECT_EQ(sink.all(), "a");
  chain.push("b");
  clock.advance(10ms);
  EXPECT_EQ(sink.all(), "ab");
  EXPECT_FALSE(chain.remove("missing"));
}

TEST_F(ChainTest, DestroyingTheChainCancelsTimers) {
  {
    ToxicChain local(
        clock, [](std::function<void()> fn) { fn(); }, sink);
    const ToxicKind& kind = *find_toxic_kind("latency");
    local.add("l", kind, parse_attributes(kind, {{"latency", 10}}), Rng(1));
    local.push("x");
  }
  clock.advance(1s);
  EXPECT_TRUE(sink.pieces.empty());
}

TEST(ToxicAttributes, DefaultsRangesAndTypesNameTheAttribute) {
  const ToxicKind& latency = *find_toxic_kind("latency");
  EXPECT_EQ(parse_attributes(latency, nullptr).at("latency"), 0);
  try {
    parse_attributes(latency, {{"latency", -1}});
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find("'latency'"), std::string::npos) << e.what();
  }
  try {
    parse_attributes(latency, {{"latency", "10"}});
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_NE(std::string(e.what()).find("must be an integer"), std::string::npos) << e.what();
  }
  try {
    parse_attributes(latency, {{"latncy", 10}});
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'latency'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parse_attributes(latency, {{"latency", 10.0}}).at("latency"), 10);
  EXPECT_THROW(parse_attributes(latency, {{"latency", 10.5}}), ApiError);
  EXPECT_THROW(parse_attributes(*find_toxic_kind("slicer"), {{"average_size", 0}}), ApiError);
}

TEST(ToxicSpecJson, ParsesToxiproxyBodiesWithItsDefaults) {
  const ToxicSpec s = ToxicSpec::from_json({{"type", "latency"}, {"attributes", {{"latency", 5}}}});
  EXPECT_EQ(s.name, "latency_downstream");
  EXPECT_EQ(s.stream, StreamDirection::downstream);
  EXPECT_EQ(s.toxicity, 1.0);
  EXPECT_EQ(s.to_json()["attributes"], nlohmann::json({{"latency", 5}, {"jitter", 0}}));
  EXPECT_THROW(ToxicSpec::from_json({{"type", "nope"}}), ApiError);
  EXPECT_THROW(ToxicSpec::from_json({{"type", "latency"}, {"stream", "sideways"}}), ApiError);
  EXPECT_THROW(ToxicSpec::from_json({{"type", "latency"}, {"toxicity", 1.5}}), ApiError);
  EXPECT_THROW(ToxicSpec::from_json(nlohmann::json::array()), ApiError);
  const ToxicSpec u = s.updated({{"attributes", {{"jitter", 3}}}, {"toxicity", 0.5}});
  EXPECT_EQ(u.attributes.at("latency"), 5);
  EXPECT_EQ(u.attributes.at("jitter"), 3);
  EXPECT_EQ(u.toxicity, 0.5);
}

}  // namespace
}  // namespace faultline::proxy
