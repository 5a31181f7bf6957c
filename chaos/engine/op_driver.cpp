#include "chaos/engine/op_driver.h"

#include "chaos/engine/thread_activity.h"
#include "harness/core/log.h"

namespace faultline::chaos {

OpDriver::OpDriver(ManualClock* manual, std::chrono::milliseconds grace)
    : manual_(manual), grace_(grace) {
  if (manual_) thread_ = std::thread([this] { worker(); });
}

OpDriver::~OpDriver() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void OpDriver::worker() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || (task_ != nullptr && !done_); });
    if (stopping_) return;
    const auto* task = task_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*task)();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    done_ = true;
    cv_.notify_all();
  }
}

bool OpDriver::wait_until_quiet(std::unique_lock<std::mutex>& lock) {
  constexpr auto kSample = std::chrono::milliseconds(1);
  constexpr int kSettle = 5;                         // consecutive quiet samples
  constexpr auto kBound = std::chrono::seconds(30);  // then fire anyway, and say so
  const auto give_up = std::chrono::steady_clock::now() + kBound;
  int quiet = 0;
  while (quiet < kSettle) {
    if (cv_.wait_for(lock, kSample, [&] { return done_; })) return false;
    quiet = other_threads_runnable() ? 0 : quiet + 1;
    if (std::chrono::steady_clock::now() > give_up) {
      log::warn("chaos",
                "an operation kept a thread busy for 30 s of real time; firing the next "
                "simulated timer anyway (this run may not reproduce from its seed)");
      return true;
    }
  }
  return true;
}

void OpDriver::run(const std::function<void()>& op) {
  if (!manual_) {
    op();
    return;
  }
  std::unique_lock lock(mu_);
  task_ = &op;
  done_ = false;
  error_ = nullptr;
  cv_.notify_all();
  for (;;) {
    if (cv_.wait_for(lock, grace_, [&] { return done_; })) break;
    // Still not done after the grace: it waits on simulated time only if the process is quiet —
    // a slow operation (a loaded machine, a sanitizer) keeps a thread runnable.
    if (!wait_until_quiet(lock)) break;
    // Fire the next timer (outside the lock: a timer may complete the operation, which needs the
    // lock to report it).
    lock.unlock();
    const bool fired = manual_->run_next();
    lock.lock();
    if (!fired && !done_) cv_.wait_for(lock, grace_ * 4, [&] { return done_; });
  }
  task_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace faultline::chaos
