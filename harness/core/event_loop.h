// EventLoop: the one Boost.Asio thread that hosts the fakes and the fault proxies.
//
// Control calls and faults are posted to the loop and awaited (`post_and_wait`), so a fault lands
// between two operations of the workload instead of at a random instant inside one. Asio itself
// is kept out of this header: code that needs the io_context includes <boost/asio/io_context.hpp>
// in its own .cpp and calls `context()`.
//
// Thread safety: `post`, `post_and_wait`, `in_loop_thread` and `stop` may be called from any
// thread. `post_and_wait` from the loop thread runs the function inline (it would deadlock
// otherwise). After `stop()`, `post` drops work and `post_and_wait` throws.
#pragma once

#include <functional>
#include <future>
#include <memory>
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
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(fn));
    std::future<R> result = task->get_future();
    if (!try_post([task] { (*task)(); })) throw Error("event loop is stopped");
    return result.get();
  }

  bool in_loop_thread() const;
  // Stops the loop after the handler that is running, and joins the thread. Idempotent.
  void stop();
  bool stopped() const;

  boost::asio::io_context& context();

 private:
  bool try_post(std::function<void()> fn);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline
