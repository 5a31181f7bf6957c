// TimedQueue: chunks (and an end of stream) waiting for their moment, emitted in order.
//
// The delaying toxics (latency, bandwidth, slicer) compute when each piece may leave and push it
// here; the queue keeps one timer for its head and emits everything due when it fires. Due times
// never go backwards (a later piece never overtakes an earlier one). `release()` emits everything
// at once, for a toxic being removed from a live link.
//
// Thread safety: none; used from its toxic's thread.
#pragma once

#include <deque>
#include <optional>
#include <string>

#include "chaos/proxy/toxic.h"

namespace faultline::proxy {

class TimedQueue {
 public:
  explicit TimedQueue(ToxicContext& ctx) : ctx_(ctx) {}
  ~TimedQueue() { cancel_timer(); }

  // Emits `data` at `due` (or at the previous piece's due time, whichever is later).
  void push(TimePoint due, std::string data) { add(due, std::move(data), false); }
  // Emits the end of stream after everything queued before it.
  void push_eof() { add(last_due_, {}, true); }
  // The due time of the last piece queued (the past if none).
  TimePoint last_due() const { return last_due_; }
  bool empty() const { return items_.empty(); }

  void release() {
    cancel_timer();
    while (!items_.empty()) pop_emit();
  }

 private:
  struct Item {
    TimePoint due;
    std::string data;
    bool eof;
  };

  void add(TimePoint due, std::string data, bool eof) {
    if (due < last_due_) due = last_due_;
    last_due_ = due;
    if (items_.empty() && due <= ctx_.now()) {
      eof ? ctx_.emit_eof() : ctx_.emit(std::move(data));
      return;
    }
    items_.push_back({due, std::move(data), eof});
    if (!timer_) arm();
  }

  void arm() {
    timer_ = ctx_.after(items_.front().due - ctx_.now(), [this] {
      timer_.reset();
      const TimePoint now = ctx_.now();
      while (!items_.empty() && items_.front().due <= now) pop_emit();
      if (!items_.empty()) arm();
    });
  }

  void pop_emit() {
    Item item = std::move(items_.front());
    items_.pop_front();
    item.eof ? ctx_.emit_eof() : ctx_.emit(std::move(item.data));
  }

  void cancel_timer() {
    if (timer_) ctx_.cancel(*timer_);
    timer_.reset();
  }

  ToxicContext& ctx_;
  std::deque<Item> items_;
  TimePoint last_due_{};
  std::optional<TimerId> timer_;
};

}  // namespace faultline::proxy
