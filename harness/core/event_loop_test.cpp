#include "harness/core/event_loop.h"

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

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

}  // namespace
}  // namespace faultline
