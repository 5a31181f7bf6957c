#include "harness/stack/orchestrator.h"

#include <algorithm>

#include "harness/core/log.h"
#include "harness/stack/chaos_guard.h"
#include "harness/stack/wait_strategy.h"

namespace faultline::stack {

std::string_view to_string(ServiceStatus::State state) {
  switch (state) {
    case ServiceStatus::State::running:
      return "running";
    case ServiceStatus::State::stopped:
      return "stopped";
    case ServiceStatus::State::error:
      return "error";
  }
  return "error";
}

StartError::StartError(std::string service, std::string detail)
    : Error("service '" + service + "' did not become ready: " + detail),
      service_(std::move(service)) {}

struct Orchestrator::Entry {
  // starting: restarted by monitor_health and not yet ready; its failed probes do not count
  // until the health timeout has passed (a server needs a moment to come up again).
  enum class State { stopped, running, starting, restarting, completed, error };
  const Service* service = nullptr;
  std::unique_ptr<ServiceHandle> handle;
  std::unique_ptr<WaitStrategy> wait;  // this start's readiness wait
  State state = State::stopped;
  TimePoint started_at{};
  TimePoint next_restart_at{};
  int restarts = 0;
  int failures_in_a_row = 0;
  bool ever_started = false;
  bool must_complete = false;  // a dependent waits for service_completed_successfully
  std::string detail;
};

Orchestrator::Orchestrator(const Stack& stack, Backend& backend, Clock& clock, Journal* journal,
                           OrchestratorOptions options)
    : stack_(stack),
      backend_(backend),
      clock_(clock),
      journal_(journal),
      options_(options),
      levels_(stack.start_levels()) {
  for (const auto& s : stack_.services) {
    auto e = std::make_unique<Entry>();
    e->service = &s;
    entries_[s.name] = std::move(e);
  }
  for (const auto& s : stack_.services) {
    for (const auto& d : s.depends_on) {
      if (d.condition == Condition::completed_successfully && entries_.count(d.service)) {
        entries_[d.service]->must_complete = true;
      }
    }
  }
}

Orchestrator::~Orchestrator() {
  try {
    stop_services();
  } catch (const std::exception& e) {
    log::error("orchestrator", "stopping the stack failed", {{"error", e.what()}});
  }
}

void Orchestrator::journal(const std::string& kind, const Entry& e, nlohmann::json fields) {
  if (fields.is_null()) fields = nlohmann::json::object();
  fields["backend"] = backend_.name();
  if (!e.detail.empty() && !fields.contains("detail")) fields["detail"] = e.detail;
  if (journal_) journal_->append(kind, e.service->name, std::move(fields));
}

void Orchestrator::start_one(Entry& e) {
  StartRequest request;
  request.attempt = e.restarts;
  request.fresh_data = !e.service->persistent || (!e.ever_started && !options_.keep_data);
  e.detail.clear();
  e.handle = guard_chaos(backend_.start(*e.service, request), *e.service, backend_.name());
  e.ever_started = true;
  e.started_at = clock_.now();
  e.wait = wait_strategy_for(*e.service, *e.handle);
  e.wait->begin(e.started_at);
  e.failures_in_a_row = 0;
  e.state = Entry::State::running;
  journal("service.start", e, {{"attempt", request.attempt}, {"fresh_data", request.fresh_data}});
}

// One look at a starting service: true when ready; throws StartError when it never will be.
bool Orchestrator::ready(Entry& e) {
  if (!e.handle->running()) {
    const auto code = e.handle->exit_code();
    if (e.must_complete && code == 0) {
      e.state = Entry::State::completed;
      return true;
    }
    e.detail = "exited" + (code ? " with code " + std::to_string(*code) : std::string());
    throw StartError(e.service->name, e.detail);
  }
  if (e.must_complete) return false;
  const WaitResult wait = e.wait->check(*e.handle, clock_.now());
  e.detail = wait.detail;
  if (wait.failed())
    throw StartError(e.service->name, "wait " + e.wait->describe() + " failed: " + wait.detail);
  return wait.ready();
}

std::vector<ServiceStatus> Orchestrator::start_services() {
  try {
    for (const auto& level : levels_) {
      std::vector<Entry*> pending;
      for (const Service* s : level) {
        Entry& e = *entries_.at(s->name);
        if (e.state != Entry::State::stopped && e.state != Entry::State::error) continue;
        if (auto why = backend_.unavailable(*s)) throw StartError(s->name, *why);
        try {
          start_one(e);
        } catch (const ResourceError& ex) {
          e.detail = std::string("insufficient resources: ") + ex.what();
          throw StartError(s->name, e.detail);
        }
        pending.push_back(&e);
      }
      // The services of a level come up together: probe each in turn until all are ready.
      const TimePoint deadline = clock_.now() + options_.health_timeout;
      const auto longest = std::max(options_.poll_interval, std::chrono::milliseconds(1));
      auto pause = std::clamp(options_.first_poll_interval, std::chrono::milliseconds(1), longest);
      while (!pending.empty()) {
        std::erase_if(pending, [&](Entry* e) {
          if (!ready(*e)) return false;
          journal("service.ready", *e);
          return true;
        });
        if (pending.empty()) break;
        if (clock_.now() >= deadline) {
          Entry& late = *pending.front();
          throw StartError(late.service->name,
                           "not healthy after " + std::to_string(options_.health_timeout.count()) +
                               " ms; last probe: " + (late.detail.empty() ? "none" : late.detail));
        }
        clock_.sleep_for(pause);
        pause = std::min(pause * 2, longest);
      }
    }
  } catch (const StartError& error) {
    Entry& failed = *entries_.at(error.service());
    failed.state = Entry::State::error;
    failed.detail = error.what();
    journal("service.error", failed);
    log::error("orchestrator", "stack did not come up", {{"error", error.what()}});
    // Dependents were never started; stop what was, newest first, and keep the error status.
    stop_services();
    failed.state = Entry::State::error;
    throw;
  }
  return status();
}

void Orchestrator::stop_one(Entry& e, const char* why) {
  if (!e.handle) return;
  e.handle->stop(options_.stop_grace);
  e.wait.reset();
  e.handle.reset();
  journal("service.stop", e, {{"reason", why}});
}

std::vector<ServiceStatus> Orchestrator::monitor_health() {
  for (const auto& level : levels_) {
    for (const Service* s : level) {
      Entry& e = *entries_.at(s->name);
      if (e.state == Entry::State::running || e.state == Entry::State::starting) {
        std::string failure;
        bool crashed = false;
        if (!e.handle->running()) {
          const auto code = e.handle->exit_code();
          failure = "exited" + (code ? " with code " + std::to_string(*code) : std::string());
          crashed = !code || *code != 0;
          if (!crashed && e.must_complete) {
            e.state = Entry::State::completed;
            continue;
          }
        } else if (e.state == Entry::State::starting) {
          const WaitResult wait = e.wait->check(*e.handle, clock_.now());
          e.detail = wait.detail;
          if (wait.ready()) {
            e.state = Entry::State::running;
            journal("service.ready", e);
            continue;
          }
          if (!wait.failed() && clock_.now() - e.started_at < options_.health_timeout) continue;
          failure = "not healthy " + std::to_string(options_.health_timeout.count()) +
                    " ms after its restart; last probe: " + wait.detail;
          crashed = true;
        } else {
          const ProbeResult probe = e.handle->probe();
          e.detail = probe.detail;
          // Without a healthcheck of its own, a service is judged by the backend's readiness
          // probe with compose's default of 3 retries, so one dropped probe restarts nothing.
          const int retries = s->healthcheck ? std::max(1, s->healthcheck->retries) : 3;
          if (probe.ok) {
            e.failures_in_a_row = 0;
          } else if (++e.failures_in_a_row >= retries) {
            failure = "unhealthy: " + probe.detail;
            crashed = true;
          }
        }
        if (failure.empty()) continue;
        e.detail = failure;
        journal("service.failed", e);
        stop_one(e, "failed");
        const auto mode = s->restart.mode;
        const bool allowed = mode == RestartPolicy::Mode::always ||
                             mode == RestartPolicy::Mode::unless_stopped ||
                             (mode == RestartPolicy::Mode::on_failure && crashed);
        int limit = options_.restart_attempts;
        if (mode == RestartPolicy::Mode::on_failure && s->restart.max_retries > 0) {
          limit = std::min(limit, s->restart.max_retries);
        }
        if (!allowed || e.restarts >= limit) {
          e.state = Entry::State::error;
          journal("service.error", e,
                  {{"restarts", e.restarts}, {"restart_policy_allows", allowed}});
          continue;
        }
        const auto backoff = std::min<std::chrono::milliseconds>(
            options_.backoff_max, options_.backoff_base * (1LL << std::min(e.restarts, 20)));
        e.state = Entry::State::restarting;
        e.next_restart_at = clock_.now() + backoff;
        journal("service.restart_scheduled", e, {{"backoff_ms", backoff.count()}});
      }
      if (e.state == Entry::State::restarting && clock_.now() >= e.next_restart_at) {
        ++e.restarts;
        try {
          start_one(e);
          e.state = Entry::State::starting;
        } catch (const Error& ex) {
          e.state = Entry::State::error;
          e.detail = ex.what();
          journal("service.error", e);
        }
      }
    }
  }
  return status();
}

void Orchestrator::stop_services() {
  for (auto level = levels_.rbegin(); level != levels_.rend(); ++level) {
    for (auto s = level->rbegin(); s != level->rend(); ++s) {
      Entry& e = *entries_.at((*s)->name);
      stop_one(e, "stop_services");
      if (e.state != Entry::State::error) e.state = Entry::State::stopped;
    }
  }
}

ServiceStatus Orchestrator::status_of(const Entry& e) const {
  ServiceStatus st;
  st.service_name = e.service->name;
  st.restarts = e.restarts;
  st.detail = e.detail;
  switch (e.state) {
    case Entry::State::running:
    case Entry::State::starting:
      st.status = ServiceStatus::State::running;
      break;
    case Entry::State::error:
      st.status = ServiceStatus::State::error;
      break;
    default:
      st.status = ServiceStatus::State::stopped;
      break;
  }
  if (e.state == Entry::State::running || e.state == Entry::State::starting) {
    st.uptime_seconds = std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - e.started_at).count());
  }
  if (e.handle && !e.handle->endpoint().url.empty()) st.health_check_url = e.handle->endpoint().url;
  return st;
}

std::vector<ServiceStatus> Orchestrator::status() const {
  std::vector<ServiceStatus> out;
  for (const auto& s : stack_.services) out.push_back(status_of(*entries_.at(s.name)));
  return out;
}

ServiceHandle* Orchestrator::handle(const std::string& service) const {
  auto it = entries_.find(service);
  return it == entries_.end() ? nullptr : it->second->handle.get();
}

}  // namespace faultline::stack
