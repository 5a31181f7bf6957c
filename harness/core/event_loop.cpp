#include "harness/core/event_loop.h"

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "harness/core/log.h"

namespace faultline {

namespace asio = boost::asio;

struct EventLoop::Impl {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{
      asio::make_work_guard(io)};
  std::thread thread;
  std::thread::id loop_id;
  std::mutex mu;  // guards `stopping` against concurrent post/stop
  bool stopping = false;
  std::atomic<bool> stopped{false};
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {
  std::promise<void> started;
  auto ready = started.get_future();
  impl_->thread = std::thread([this, &started] {
    impl_->loop_id = std::this_thread::get_id();
    started.set_value();
    impl_->io.run();
  });
  ready.wait();
}

EventLoop::~EventLoop() {
  stop();
}

bool EventLoop::try_post(std::function<void()> fn) {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopping) return false;
  asio::post(impl_->io, [fn = std::move(fn)] {
    try {
      fn();
    } catch (const std::exception& e) {
      log::error("event_loop", "handler threw", {{"error", e.what()}});
    }
  });
  return true;
}

void EventLoop::post(std::function<void()> fn) {
  try_post(std::move(fn));
}

bool EventLoop::in_loop_thread() const {
  return std::this_thread::get_id() == impl_->loop_id;
}

void EventLoop::stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->stopping = true;
      impl_->guard.reset();
      impl_->io.stop();
    }
  }
  // From a handler, the thread cannot join itself; it ends when that handler returns and the
  // next stop() or the destructor (which must not run on the loop thread) joins it.
  if (!in_loop_thread() && impl_->thread.joinable()) impl_->thread.join();
  impl_->stopped = true;
}

bool EventLoop::stopped() const {
  return impl_->stopped;
}

asio::io_context& EventLoop::context() {
  return impl_->io;
}

}  // namespace faultline
