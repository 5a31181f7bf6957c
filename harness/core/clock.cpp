#include "harness/core/clock.h"

namespace faultline {

TimerId TimerQueue::add(TimePoint deadline, std::function<void()> fn) {
  TimerId id = next_id_++;
  by_deadline_.emplace(Key{deadline, id}, std::move(fn));
  deadline_of_.emplace(id, deadline);
  return id;
}

bool TimerQueue::remove(TimerId id) {
  auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return false;
  by_deadline_.erase(Key{it->second, id});
  deadline_of_.erase(it);
  return true;
}

bool TimerQueue::pop_due(TimePoint limit, std::function<void()>& fn, TimePoint& deadline) {
  if (by_deadline_.empty()) return false;
  auto it = by_deadline_.begin();
  if (it->first.first > limit) return false;
  deadline = it->first.first;
  fn = std::move(it->second);
  deadline_of_.erase(it->first.second);
  by_deadline_.erase(it);
  return true;
}

// --- ManualClock ---

ManualClock::ManualClock(std::chrono::system_clock::time_point wall_start)
    : wall_start_(wall_start) {}

TimePoint ManualClock::now() const {
  std::lock_guard lock(mu_);
  return now_;
}

std::chrono::system_clock::time_point ManualClock::wall_now() const {
  std::lock_guard lock(mu_);
  return wall_start_ +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(now_.time_since_epoch());
}

TimerId ManualClock::call_at(TimePoint deadline, std::function<void()> fn) {
  std::lock_guard lock(mu_);
  // A deadline in the past fires at the next advance(), at the current time.
  return timers_.add(std::max(deadline, now_), std::move(fn));
}

bool ManualClock::cancel(TimerId id) {
  std::lock_guard lock(mu_);
  return timers_.remove(id);
}

void ManualClock::advance(Duration d) {
  TimePoint target;
  {
    std::lock_guard lock(mu_);
    target = now_ + d;
  }
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu_);
      TimePoint deadline;
      if (!timers_.pop_due(target, fn, deadline)) {
        now_ = std::max(now_, target);
        return;
      }
      now_ = std::max(now_, deadline);
    }
    fn();
  }
}

bool ManualClock::run_next() {
  Duration step;
  {
    std::lock_guard lock(mu_);
    if (timers_.empty()) return false;
    step = timers_.earliest() - now_;
  }
  advance(step);
  return true;
}

std::size_t ManualClock::pending() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

// --- RealClock ---

RealClock::RealClock() = default;

RealClock::~RealClock() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

TimePoint RealClock::now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

std::chrono::system_clock::time_point RealClock::wall_now() const {
  return std::chrono::system_clock::now();
}

TimerId RealClock::call_at(TimePoint deadline, std::function<void()> fn) {
  std::lock_guard lock(mu_);
  TimerId id = timers_.add(deadline, std::move(fn));
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  cv_.notify_all();
  return id;
}

bool RealClock::cancel(TimerId id) {
  std::lock_guard lock(mu_);
  return timers_.remove(id);
}

void RealClock::sleep_for(Duration d) {
  if (d > Duration::zero()) std::this_thread::sleep_for(d);
}

void RealClock::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    std::function<void()> fn;
    TimePoint deadline;
    if (timers_.pop_due(now(), fn, deadline)) {
      lock.unlock();
      fn();
      lock.lock();
      continue;
    }
    if (timers_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, timers_.earliest());
    }
  }
}

}  // namespace faultline
