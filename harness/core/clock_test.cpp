#include "harness/core/clock.h"

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace faultline {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, StandsStillUntilAdvanced) {
  ManualClock clock;
  const auto t0 = clock.now();
  EXPECT_EQ(clock.now(), t0);
  clock.advance(5s);
  EXPECT_EQ(clock.now() - t0, 5s);
  EXPECT_TRUE(clock.simulated());
}

TEST(ManualClock, FiresTimersInDeadlineOrderWithTiesInScheduleOrder) {
  ManualClock clock;
  std::vector<std::string> fired;
  clock.call_after(3s, [&] { fired.push_back("c@3"); });
  clock.call_after(1s, [&] { fired.push_back("a@1"); });
  clock.call_after(2s, [&] { fired.push_back("b1@2"); });
  clock.call_after(2s, [&] { fired.push_back("b2@2"); });
  clock.advance(2s);
  EXPECT_EQ(fired, (std::vector<std::string>{"a@1", "b1@2", "b2@2"}));
  clock.advance(10s);
  EXPECT_EQ(fired.back(), "c@3");
  EXPECT_EQ(clock.pending(), 0u);
}

TEST(ManualClock, TimeDuringACallbackIsItsDeadline) {
  ManualClock clock;
  Duration seen{};
  clock.call_after(250ms, [&] { seen = clock.now().time_since_epoch(); });
  clock.advance(1s);
  EXPECT_EQ(seen, 250ms);
  EXPECT_EQ(clock.now().time_since_epoch(), 1s);
}

TEST(ManualClock, CallbacksMayScheduleTimersThatFireInTheSameAdvance) {
  ManualClock clock;
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 10) clock.call_after(100ms, tick);
  };
  clock.call_after(100ms, tick);
  clock.advance(1s);
  EXPECT_EQ(ticks, 10);
}

TEST(ManualClock, CancelledTimersNeverFire) {
  ManualClock clock;
  bool fired = false;
  auto id = clock.call_after(1s, [&] { fired = true; });
  EXPECT_TRUE(clock.cancel(id));
  EXPECT_FALSE(clock.cancel(id));
  clock.advance(2s);
  EXPECT_FALSE(fired);
}

TEST(ManualClock, RunNextJumpsToTheNextDeadline) {
  ManualClock clock;
  clock.call_after(10min, [] {});
  EXPECT_TRUE(clock.run_next());
  EXPECT_EQ(clock.now().time_since_epoch(), 10min);
  EXPECT_FALSE(clock.run_next());
}

TEST(ManualClock, SleepForAdvancesSimulatedTimeAndFiresTimers) {
  ManualClock clock;
  bool fired = false;
  clock.call_after(30s, [&] { fired = true; });
  clock.sleep_for(10min);
  EXPECT_TRUE(fired);
  EXPECT_EQ(clock.now().time_since_epoch(), 10min);
}

TEST(ManualClock, WallTimeFollowsSimulatedTime) {
  const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  ManualClock clock(start);
  clock.advance(90s);
  EXPECT_EQ(clock.wall_now() - start, 90s);
}

TEST(RealClock, FiresATimerFromItsThread) {
  RealClock clock;
  std::promise<void> fired;
  clock.call_after(1ms, [&] { fired.set_value(); });
  // A generous bound on a condition, not a timing assertion.
  EXPECT_EQ(fired.get_future().wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(clock.simulated());
}

TEST(RealClock, CancelledTimerDoesNotFire) {
  RealClock clock;
  std::atomic<bool> fired{false};
  auto id = clock.call_after(1h, [&] { fired = true; });
  EXPECT_TRUE(clock.cancel(id));
  EXPECT_FALSE(fired);
}

}  // namespace
}  // namespace faultline
