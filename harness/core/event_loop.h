// EventLoop: the one Boost.Asio thread that hosts the fakes and the fault proxies.
//
// Control calls and faults are posted to the loop and awaited (`post_and_wait`), so a fault lands
// between two operations of the workload instead of at a random instant inside one. Asio itself
// is kept out of this header: code that needs the io_context includes <boost/asio/io_context.hpp>
// in its own .cpp and calls `context()`.
//
// Thread safety: `post`, `post_and_wait`, `in_loop_thread` and `stop` may be called from any
// thread. `post_and_wait` from the loop thread runs the function inline (it would deadlock
// otherwise). After `stop()`, `post` drops work and `post_and_wait` throws; a `post_and_wait`
// whose function had not run when the loop stopped throws too (it never runs).
//
// The result or exception of `post_and_wait` is handed to the caller under a mutex, and the loop
// thread lets go of every reference to an exception before it wakes the caller, so the exception
// lives and dies on the caller's thread (no std::future: libstdc++'s exception_ptr reference count
// is invisible to ThreadSanitizer, which then reports the exception's destruction as a race).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "harness/core/error.h"

namespace boost::asio {
class io_context;
}

namespace faultline {

class EventLoop {
 public:
  EventLoop();   // starts the loop thread
  ~EventLoop();  // stop() and join; must not run on the loop thread
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Queues `fn` to run on the loop thread. An exception escaping `fn` is logged, not rethrown.
  void post(std::function<void()> fn);

  // Runs `fn` on the loop thread and returns its result (or rethrows its exception).
  template <class F>
  auto post_and_wait(F&& fn) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if (in_loop_thread()) return fn();
    // `fn` and the result stay on this frame: run_and_wait returns only once the loop thread is
    // done with both, or the call was abandoned without running.
    if constexpr (std::is_void_v<R>) {
      run_and_wait([&fn] { fn(); });
    } else if constexpr (std::is_reference_v<R>) {
      std::remove_reference_t<R>* result = nullptr;
      run_and_wait([&fn, &result] { result = &fn(); });
      return static_cast<R>(*result);
    } else {
      std::optional<R> result;
      run_and_wait([&fn, &result] { result.emplace(fn()); });
      return std::move(*result);
    }
  }

  bool in_loop_thread() const;
  // Stops the loop after the handler that is running, and joins the thread. Idempotent.
  void stop();
  bool stopped() const;

  boost::asio::io_context& context();

 private:
  bool try_post(std::function<void()> fn);
  // Runs `fn` on the loop thread and waits; rethrows its exception. Throws Error if the loop is
  // stopped, or stops before `fn` ran.
  void run_and_wait(std::function<void()> fn);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline
