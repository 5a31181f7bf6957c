// OpDriver: runs one blocking operation (a client call, a probe) to completion while simulated
// time moves only as far as the operation needs.
//
// On a RealClock an operation simply runs on the caller's thread. On a ManualClock nothing moves
// time by itself, yet a client call may wait on it: a slow-query fault delays a statement on the
// fake's clock, a proxy's latency or timeout toxic holds bytes on it, the pool's acquire waits for
// a deadline on it. So the driver runs the operation on its worker thread and, while it has not
// finished after a short real-time grace and no other thread of the process is runnable
// (thread_activity.h: the operation is asleep, and so is everything that could answer it), fires
// the next simulated timer (ManualClock::run_next) — exactly what a blocked caller would see, in
// deadline order. An operation that is merely slow (a loaded machine, a sanitizer build) keeps a
// thread runnable and so never moves simulated time early. The workload therefore does one
// synchronous operation at a time, minutes of simulated waiting cost milliseconds, and the
// journal records simulated durations, which the same seed reproduces.
//
// Thread safety: run() is called from one thread at a time (the runner's); the operation runs on
// the worker thread and must not call run() itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "harness/core/clock.h"

namespace faultline::chaos {

class OpDriver {
 public:
  // `manual` is the simulated clock, or nullptr on real time.
  explicit OpDriver(ManualClock* manual,
                    std::chrono::milliseconds grace = std::chrono::milliseconds(40));
  ~OpDriver();
  OpDriver(const OpDriver&) = delete;
  OpDriver& operator=(const OpDriver&) = delete;

  // Runs `op`, rethrowing what it throws.
  void run(const std::function<void()>& op);

  bool simulated() const { return manual_ != nullptr; }

 private:
  void worker();
  // Waits (lock held between samples) until no other thread is runnable for a few consecutive
  // samples; false if the operation finished meanwhile.
  bool wait_until_quiet(std::unique_lock<std::mutex>& lock);

  ManualClock* manual_;
  std::chrono::milliseconds grace_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* task_ = nullptr;
  bool done_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace faultline::chaos
