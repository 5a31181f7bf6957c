// Clock: the one source of time for everything in faultline.
//
// Nothing in the harness, the fakes or the faults calls a system clock directly; it takes a
// `Clock&`. `RealClock` follows the steady clock and fires timers from one internal thread.
// `ManualClock` is simulated time: it stands still until `advance()` moves it, and `advance()`
// fires every timer whose deadline it passes, in deadline order (ties in the order they were
// scheduled), on the calling thread — so a scenario describing ten minutes of chaos runs in
// microseconds and does the same thing every time.
//
// Thread safety: all member functions of both clocks may be called from any thread. Timer
// callbacks run without the clock's lock held, so they may schedule or cancel timers themselves.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace faultline {

// Time since the clock's epoch (for a ManualClock, the moment it was made; for a RealClock, the
// steady clock's epoch). Nanosecond resolution.
using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;
using TimerId = std::uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time on this clock.
  virtual TimePoint now() const = 0;
  // Wall-clock time, for humans and journals only; never for decisions.
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
  // True for simulated clocks, on which waiting for real time would never end.
  virtual bool simulated() const = 0;

  // Runs `fn` once, at or after `deadline`. Returns an id for `cancel`.
  virtual TimerId call_at(TimePoint deadline, std::function<void()> fn) = 0;
  TimerId call_after(Duration delay, std::function<void()> fn) {
    return call_at(now() + delay, std::move(fn));
  }
  // Returns true if the timer had not fired yet and now never will.
  virtual bool cancel(TimerId id) = 0;

  // Waits `d` on this clock. A RealClock sleeps the calling thread; a ManualClock advances itself
  // by `d`, firing the timers that fall due — in a simulation the waiting thread is the one that
  // moves time, so code that polls (health waits, backoff) runs unchanged and instantly.
  virtual void sleep_for(Duration d) = 0;

  // Nanoseconds since the clock's epoch, the form journals record.
  std::int64_t now_ns() const { return now().time_since_epoch().count(); }
};

// Timers ordered by (deadline, sequence): deterministic order, and cancel by id.
class TimerQueue {
 public:
  TimerId add(TimePoint deadline, std::function<void()> fn);
  bool remove(TimerId id);
  // Removes and returns the earliest timer if its deadline is <= `limit`.
  bool pop_due(TimePoint limit, std::function<void()>& fn, TimePoint& deadline);
  bool empty() const { return by_deadline_.empty(); }
  TimePoint earliest() const { return by_deadline_.begin()->first.first; }
  std::size_t size() const { return by_deadline_.size(); }

 private:
  using Key = std::pair<TimePoint, TimerId>;
  std::map<Key, std::function<void()>> by_deadline_;
  std::map<TimerId, TimePoint> deadline_of_;
  TimerId next_id_ = 1;
};

class ManualClock final : public Clock {
 public:
  // `wall_start` is what wall_now() reports at simulated time zero; it advances with the clock.
  explicit ManualClock(
      std::chrono::system_clock::time_point wall_start = std::chrono::system_clock::time_point{});

  TimePoint now() const override;
  std::chrono::system_clock::time_point wall_now() const override;
  bool simulated() const override { return true; }
  TimerId call_at(TimePoint deadline, std::function<void()> fn) override;
  bool cancel(TimerId id) override;
  void sleep_for(Duration d) override { advance(d); }

  // Moves time forward by `d`, firing due timers in order; time is set to each timer's deadline
  // while it runs. Timers scheduled by a callback fire in the same call if they fall due.
  void advance(Duration d);
  // Advances to the next timer's deadline and fires it (and any others due then). False if none.
  bool run_next();
  std::size_t pending() const;

 private:
  mutable std::mutex mu_;
  TimePoint now_{};
  std::chrono::system_clock::time_point wall_start_;
  TimerQueue timers_;
};

class RealClock final : public Clock {
 public:
  RealClock();
  ~RealClock() override;
  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  TimePoint now() const override;
  std::chrono::system_clock::time_point wall_now() const override;
  bool simulated() const override { return false; }
  TimerId call_at(TimePoint deadline, std::function<void()> fn) override;
  bool cancel(TimerId id) override;
  void sleep_for(Duration d) override;

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  TimerQueue timers_;
  bool stopping_ = false;
  std::thread thread_;  // started lazily by the first call_at
};

}  // namespace faultline
