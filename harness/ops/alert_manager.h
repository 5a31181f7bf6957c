// AlertManager: what stands between a firing rule and the people it wakes.
//
// It deduplicates by label set (the same alert firing again is one notification), holds a
// cooldown per fingerprint (ALERT_COOLDOWN, 300 s: no repeat before it ends), rate-limits all
// notifications (at most `rate_limit` per `rate_window`), and delivers what passes to every
// notifier: the log, a JSON-lines file, an HTTP webhook. Every decision is journaled, so a test
// can measure delivery latency on the simulated clock.
//
// Thread safety: submit() and the accessors may be called from any thread (one lock).
#pragma once

#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "harness/core/clock.h"
#include "harness/core/journal.h"
#include "harness/ops/alerts.h"

namespace faultline::ops {

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual std::string name() const = 0;
  // Throws faultline::Error when delivery fails; the manager records it and goes on.
  virtual void notify(const Alert& alert) = 0;
};

std::unique_ptr<Notifier> log_notifier();
std::unique_ptr<Notifier> file_notifier(std::filesystem::path path);
// POSTs the alert as JSON to http://host:port/path (loopback), with a bounded timeout.
std::unique_ptr<Notifier> webhook_notifier(std::string host, int port, std::string path);

struct AlertManagerOptions {
  Duration cooldown = std::chrono::seconds(300);  // ALERT_COOLDOWN
  int rate_limit = 10;                            // notifications per window, all alerts together
  Duration rate_window = std::chrono::seconds(60);
};

class AlertManager {
 public:
  enum class Decision { delivered, duplicate, cooling_down, rate_limited, resolved };

  AlertManager(Clock& clock, Journal* journal = nullptr, AlertManagerOptions options = {});
  void add_notifier(std::unique_ptr<Notifier> notifier);

  Decision submit(const Alert& alert);

  struct Counts {
    int delivered = 0, duplicates = 0, cooling_down = 0, rate_limited = 0, failures = 0;
  };
  Counts counts() const;

 private:
  struct Active {
    bool firing = false;
    TimePoint last_sent{};
    bool sent = false;
  };
  void deliver(const Alert& alert);

  Clock& clock_;
  Journal* journal_;
  AlertManagerOptions options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Notifier>> notifiers_;
  std::map<std::string, Active> active_;
  std::deque<TimePoint> sent_times_;
  Counts counts_;
};

}  // namespace faultline::ops
