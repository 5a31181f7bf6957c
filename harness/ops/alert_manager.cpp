#include "harness/ops/alert_manager.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "harness/core/error.h"
#include "harness/core/log.h"
#include "harness/core/redact.h"

namespace faultline::ops {
namespace {

nlohmann::json alert_json(const Alert& a) {
  return {{"alertname", a.rule},
          {"status", a.resolved ? "resolved" : "firing"},
          {"severity", to_string(a.severity)},
          {"labels", a.labels},
          {"value", a.value},
          {"summary", a.summary},
          {"active_since_ns", a.active_since.time_since_epoch().count()},
          {"at_ns", a.at.time_since_epoch().count()}};
}

class LogNotifier final : public Notifier {
 public:
  std::string name() const override { return "log"; }
  void notify(const Alert& a) override {
    const auto level = a.resolved                         ? log::Level::info
                       : a.severity == Severity::critical ? log::Level::error
                                                          : log::Level::warn;
    log::write(level, "alert", a.rule + (a.resolved ? " resolved" : " firing"), alert_json(a));
  }
};

class FileNotifier final : public Notifier {
 public:
  explicit FileNotifier(std::filesystem::path path) : path_(std::move(path)) {}
  std::string name() const override { return "file:" + path_.string(); }
  void notify(const Alert& a) override {
    std::ofstream out(path_, std::ios::app);
    nlohmann::json j = alert_json(a);
    Redactor::process().redact_json(j);
    out << j.dump() << "\n";
    if (!out.flush()) throw Error("cannot append to " + path_.string());
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::unique_ptr<Notifier> log_notifier() {
  return std::make_unique<LogNotifier>();
}
std::unique_ptr<Notifier> file_notifier(std::filesystem::path path) {
  return std::make_unique<FileNotifier>(std::move(path));
}

AlertManager::AlertManager(Clock& clock, Journal* journal, AlertManagerOptions options)
    : clock_(clock), journal_(journal), options_(options) {
  if (options_.rate_limit <= 0) throw InputError({}, "alert rate limit must be positive");
  if (options_.cooldown < Duration::zero()) throw InputError({}, "alert cooldown must be >= 0");
}

void AlertManager::add_notifier(std::unique_ptr<Notifier> notifier) {
  std::lock_guard lock(mu_);
  notifiers_.push_back(std::move(notifier));
}

void AlertManager::deliver(const Alert& alert) {
  for (const auto& n : notifiers_) {
    try {
      n->notify(alert);
    } catch (const std::exception& e) {
      ++counts_.failures;
      log::error("alert", "notifier failed", {{"notifier", n->name()}, {"error", e.what()}});
      if (journal_) {
        journal_->append("alert.delivery_failed", alert.rule,
                         {{"notifier", n->name()}, {"error", e.what()}});
      }
    }
  }
}

AlertManager::Decision AlertManager::submit(const Alert& alert) {
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.now();
  Active& a = active_[alert.fingerprint()];
  auto record = [&](Decision d, const char* what) {
    if (journal_) {
      journal_->append("alert." + std::string(what), alert.rule,
                       {{"fingerprint", alert.fingerprint()},
                        {"latency_ns", (now - alert.active_since).count()}});
    }
    return d;
  };
  if (alert.resolved) {
    const bool was_sent = a.firing && a.sent;
    a.firing = false;
    if (was_sent) deliver(alert);
    return record(Decision::resolved, "resolved");
  }
  const bool recently_sent = a.sent && now - a.last_sent < options_.cooldown;
  if (a.firing && recently_sent) {
    ++counts_.duplicates;
    return record(Decision::duplicate, "duplicate");
  }
  if (recently_sent) {
    // It resolved and fired again inside the cooldown: a flapping alert stays quiet.
    a.firing = true;
    ++counts_.cooling_down;
    return record(Decision::cooling_down, "cooling_down");
  }
  while (!sent_times_.empty() && now - sent_times_.front() >= options_.rate_window) {
    sent_times_.pop_front();
  }
  if (static_cast<int>(sent_times_.size()) >= options_.rate_limit) {
    ++counts_.rate_limited;
    return record(Decision::rate_limited, "rate_limited");  // not marked sent: retried next time
  }
  a.firing = true;
  a.sent = true;
  a.last_sent = now;
  sent_times_.push_back(now);
  ++counts_.delivered;
  deliver(alert);
  return record(Decision::delivered, "delivered");
}

AlertManager::Counts AlertManager::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace faultline::ops
