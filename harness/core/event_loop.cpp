#include "harness/core/event_loop.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "harness/core/log.h"

namespace faultline {

namespace asio = boost::asio;

namespace {

// One post_and_wait call: the caller waits here until the loop thread has run the function
// (`done`, with its exception if any) or has stopped without running it (`abandoned`).
class PendingCall {
 public:
  void finish(bool ran, std::exception_ptr error) {
    {
      std::lock_guard lock(mu_);
      state_ = ran ? State::done : State::abandoned;
      error_ = std::move(error);
    }
    cv_.notify_all();
  }

  // Blocks until finish(); rethrows the function's exception on this thread.
  void await() {
    std::exception_ptr error;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return state_ != State::pending; });
      if (state_ == State::abandoned) throw Error("event loop stopped before the call ran");
      error = std::move(error_);
    }
    if (error) std::rethrow_exception(std::move(error));
  }

 private:
  enum class State { pending, done, abandoned };
  std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::pending;
  std::exception_ptr error_;
};

}  // namespace

struct EventLoop::Impl {
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{
      asio::make_work_guard(io)};
  std::thread thread;
  std::thread::id loop_id;
  std::mutex mu;  // guards `stopping` and `calls` against concurrent post/stop
  bool stopping = false;
  std::atomic<bool> stopped{false};
  // post_and_wait calls queued and not yet run; abandoned when the loop thread ends.
  std::list<std::shared_ptr<PendingCall>> calls;

  // On the loop thread once io.run() has returned: nothing queued will run any more.
  void abandon_pending_calls() {
    std::list<std::shared_ptr<PendingCall>> left;
    {
      std::lock_guard lock(mu);
      stopping = true;  // also when someone stopped the io_context itself
      left.swap(calls);
    }
    for (const auto& call : left) call->finish(false, nullptr);
  }
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {
  std::promise<void> started;
  auto ready = started.get_future();
  impl_->thread = std::thread([this, &started] {
    impl_->loop_id = std::this_thread::get_id();
    started.set_value();
    impl_->io.run();
    impl_->abandon_pending_calls();
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

void EventLoop::run_and_wait(std::function<void()> fn) {
  auto call = std::make_shared<PendingCall>();
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) throw Error("event loop is stopped");
    impl_->calls.push_front(call);
    asio::post(impl_->io, [impl = impl_.get(), call, it = impl_->calls.begin(), &fn] {
      std::exception_ptr error;
      try {
        fn();
      } catch (...) {
        error = std::current_exception();
      }
      // The catch block has ended: `error` is this thread's only reference to the exception, and
      // it moves to the caller, who is its last owner.
      {
        std::lock_guard lock(impl->mu);
        impl->calls.erase(it);
      }
      call->finish(true, std::move(error));
    });
  }
  call->await();
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
