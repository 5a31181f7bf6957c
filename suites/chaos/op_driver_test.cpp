// OpDriver moves simulated time only for an operation that waits on it: an operation asleep on a
// simulated timer gets the timer fired; one that is merely slow (busy on a CPU past the driver's
// real-time grace, as under a sanitizer or a loaded machine) never does. The second case is what
// made the determinism check flaky under ASan before the driver looked at thread activity.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "chaos/engine/op_driver.h"
#include "chaos/engine/thread_activity.h"
#include "harness/core/clock.h"

namespace faultline::chaos {
namespace {

using namespace std::chrono_literals;

TEST(ThreadStat, StateFollowsTheLastParenthesis) {
  const auto stat = parse_thread_stat("4242 (odd (name) x) S 1 4242 4242 0 -1 4194560");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->name, "odd (name) x");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(parse_thread_stat("4242 (rdk:main) R 1")->state, 'R');
  EXPECT_FALSE(parse_thread_stat("4242 no parenthesis R").has_value());
  EXPECT_FALSE(parse_thread_stat("4242 (cut").has_value());
  EXPECT_FALSE(parse_thread_stat("4242 (name)").has_value());
}

TEST(OpDriver, FiresTheTimerAnOperationSleepsOn) {
  ManualClock clock;
  OpDriver driver(&clock);
  std::mutex mu;
  std::condition_variable cv;
  bool fired = false;
  clock.call_after(10s, [&] {
    std::lock_guard lock(mu);
    fired = true;
    cv.notify_all();
  });
  driver.run([&] {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return fired; });
  });
  EXPECT_TRUE(fired);
  EXPECT_EQ(clock.now().time_since_epoch(), 10s);
}

TEST(OpDriver, ASlowOperationDoesNotMoveSimulatedTime) {
  ManualClock clock;
  OpDriver driver(&clock, 5ms);
  std::atomic<bool> fired{false};
  clock.call_after(1s, [&] { fired = true; });
  // Busy (never asleep) for many times the driver's grace: the driver must wait for it, not take
  // it for an operation waiting on the simulated clock.
  driver.run([] {
    const auto until = std::chrono::steady_clock::now() + 300ms;
    volatile std::uint64_t spins = 0;
    while (std::chrono::steady_clock::now() < until) spins = spins + 1;
  });
  EXPECT_FALSE(fired.load());
  EXPECT_EQ(clock.now().time_since_epoch(), 0s);
  EXPECT_EQ(clock.pending(), 1u);
}

TEST(OpDriver, RethrowsWhatTheOperationThrows) {
  ManualClock clock;
  OpDriver driver(&clock);
  EXPECT_THROW(driver.run([] { throw std::runtime_error("boom"); }), std::runtime_error);
  driver.run([] {});  // still usable
}

}  // namespace
}  // namespace faultline::chaos
