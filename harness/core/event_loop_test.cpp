#include "harness/core/event_loop.h"

#include <atomic>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace faultline {
namespace {

TEST(EventLoop, PostAndWaitRunsOnTheLoopThreadAndReturns) {
  EventLoop loop;
  auto caller = std::this_thread::get_id();
  auto [value, on_loop, other] = loop.post_and_wait([&] {
    return std::make_tuple(42, loop.in_loop_thread(), std::this_thread::get_id() != caller);
  });
  EXPECT_EQ(value, 42);
  EXPECT_TRUE(on_loop);
  EXPECT_TRUE(other);
  EXPECT_FALSE(loop.in_loop_thread());
}

TEST(EventLoop, HandlersRunInPostOrder) {
  EventLoop loop;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) loop.post([&order, i] { order.push_back(i); });
  loop.post_and_wait([] {});
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(EventLoop, PostAndWaitRethrows) {
  EventLoop loop;
  EXPECT_THROW(loop.post_and_wait([]() -> int { throw std::runtime_error("boom"); }),
               std::runtime_error);
  EXPECT_EQ(loop.post_and_wait([] { return 1; }), 1) << "the loop survives a throwing call";
}

TEST(EventLoop, NestedPostAndWaitRunsInline) {
  EventLoop loop;
  int v = loop.post_and_wait([&] { return loop.post_and_wait([] { return 7; }); });
  EXPECT_EQ(v, 7);
}

TEST(EventLoop, ExposesTheIoContextForAsioCode) {
  EventLoop loop;
  std::promise<bool> ran;
  boost::asio::post(loop.context(), [&] { ran.set_value(loop.in_loop_thread()); });
  auto f = ran.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(f.get());
}

TEST(EventLoop, AfterStopPostAndWaitThrows) {
  EventLoop loop;
  loop.stop();
  loop.stop();
  EXPECT_TRUE(loop.stopped());
  EXPECT_THROW(loop.post_and_wait([] { return 1; }), Error);
}

// The exception crosses threads by hand-over, not through std::future; under ThreadSanitizer this
// is the case that used to be reported as a race between the exception's destructor on the loop
// thread and the caller's catch.
TEST(EventLoop, ExceptionsFromManyCallersReachEachCaller) {
  EventLoop loop;
  std::atomic<int> caught{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&loop, &caught, t] {
      for (int i = 0; i < 200; ++i) {
        try {
          loop.post_and_wait([t, i]() -> int {
            throw std::runtime_error("call " + std::to_string(t) + "/" + std::to_string(i));
          });
        } catch (const std::runtime_error& e) {
          if (std::string(e.what()) == "call " + std::to_string(t) + "/" + std::to_string(i))
            ++caught;
        }
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(caught.load(), 800);
}

TEST(EventLoop, ReturnsReferencesAndMoveOnlyValues) {
  EventLoop loop;
  int value = 3;
  int& ref = loop.post_and_wait([&value]() -> int& { return value; });
  EXPECT_EQ(&ref, &value);
  auto owned = loop.post_and_wait([] { return std::make_unique<int>(5); });
  EXPECT_EQ(*owned, 5);
}

// A call queued behind a handler that stops the loop never runs; its caller is woken with an
// Error instead of waiting forever (or gets the same Error at once if the loop had stopped).
TEST(EventLoop, CallQueuedWhenTheLoopStopsIsAbandoned) {
  for (int round = 0; round < 20; ++round) {
    EventLoop loop;
    std::promise<void> caller_started, go;
    auto started = caller_started.get_future();
    auto go_future = go.get_future().share();
    loop.post([&loop, go_future] {
      go_future.wait();
      loop.stop();  // from the loop thread: the handlers queued after this one never run
    });
    std::atomic<bool> ran{false};
    std::promise<bool> threw;
    auto threw_future = threw.get_future();
    std::thread caller([&] {
      caller_started.set_value();
      try {
        loop.post_and_wait([&ran] { ran = true; });
        threw.set_value(false);
      } catch (const Error&) {
        threw.set_value(true);
      }
    });
    started.wait();
    go.set_value();
    ASSERT_EQ(threw_future.wait_for(std::chrono::seconds(30)), std::future_status::ready)
        << "the caller of an abandoned call must be woken";
    EXPECT_TRUE(threw_future.get());
    EXPECT_FALSE(ran.load());
    caller.join();
  }
}

}  // namespace
}  // namespace faultline
