#include "chaos/engine/op_driver.h"

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
    // Still blocked after the grace: it waits on simulated time. Fire the next timer (outside
    // the lock: a timer may complete the operation, which needs the lock to report it).
    lock.unlock();
    const bool fired = manual_->run_next();
    lock.lock();
    if (!fired && !done_) cv_.wait_for(lock, grace_ * 4, [&] { return done_; });
  }
  task_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace faultline::chaos
