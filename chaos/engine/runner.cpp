#include "chaos/engine/runner.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <set>
#include <thread>

#include "chaos/engine/environment.h"
#include "chaos/engine/fault_kind.h"
#include "chaos/engine/probes.h"
#include "chaos/engine/workload.h"
#include "chaos/proxy/proxy_server.h"
#include "harness/ops/alerts.h"

namespace faultline::chaos {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

struct Active {
  PlannedFault planned;
  std::vector<std::unique_ptr<ActiveFault>> parts;
};

// The services a scenario touches: workload, probe, checker and fault targets.
std::vector<std::string> services_needed(const Scenario& sc, const Schedule& sched) {
  std::set<std::string> s;
  for (const auto& w : sc.workloads) {
    s.insert(w.target);
    if (w.params.contains("database"))
      s.insert(w.params["database"].get<std::string>());
    else if (w.name == "cache")
      s.insert("postgres");
  }
  for (const auto& p : sc.steady_state.probes)
    if (!p.target.empty()) s.insert(p.target);
  for (const auto& i : sc.invariants)
    if (!i.target.empty()) s.insert(i.target);
  for (const auto& f : sched.faults)
    for (const auto& t : f.targets) s.insert(t);
  return {s.begin(), s.end()};
}

std::vector<ops::AlertRule> alert_rules(const Scenario& sc) {
  std::vector<ops::AlertRule> rules;
  for (const auto& a : sc.alerts) {
    ops::AlertRule r;
    r.name = a.name;
    r.metric = a.metric;
    r.op = a.above ? ops::AlertRule::Op::above : ops::AlertRule::Op::below;
    r.threshold = a.threshold;
    r.for_duration = a.for_duration;
    r.severity = a.severity == "critical" ? ops::Severity::critical
                 : a.severity == "info"   ? ops::Severity::info
                                          : ops::Severity::warning;
    rules.push_back(r);
  }
  return rules;
}

class Run {
 public:
  Run(const Scenario& sc, const RunOptions& o, RunResult& r) : sc_(sc), o_(o), r_(r) {}

  void execute(const stack::Stack& stack) {
    EnvironmentOptions eo{o_.backend, std::nullopt, o_.seed, o_.out_dir / "journal.jsonl"};
    env_ = std::make_unique<Environment>(eo, stack);
    auto& j = env_->journal();
    j.append(event_kind::kRunStart, sc_.name,
             {{"seed", o_.seed}, {"backend", o_.backend}, {"schedule", r_.schedule.to_json()}});
    try {
      body();
    } catch (const std::exception& e) {
      unknown(std::string("run error: ") + e.what());
    }
    heal_all();  // whatever the path, nothing stays injected
    rollbacks();
    j.append(event_kind::kRunEnd, sc_.name, {{"verdict", verdict()}, {"reasons", r_.reasons}});
    r_.digest = j.digest();
    {
      const auto events = j.events();
      r_.simulated_seconds =
          static_cast<double>(events.back().sim_ns - events.front().sim_ns) / 1e9;
    }
    try {
      env_->stop();
    } catch (const std::exception& e) {
      r_.reasons.push_back(std::string("stopping the stack: ") + e.what());
    }
  }

  std::string verdict() const {
    if (failed_) return "fail";
    if (unknown_) return "unknown";
    return "pass";
  }

 private:
  void fail(std::string why) {
    failed_ = true;
    r_.reasons.push_back(std::move(why));
  }
  void unknown(std::string why) {
    unknown_ = true;
    r_.reasons.push_back(std::move(why));
  }

  // Scenario time: the clock since the start, less any clock-skew jump (a jump moves the clock,
  // not the schedule).
  Duration since_start() const { return env_->clock().now() - start_ - skew_; }

  void body() {
    // What a fault needs of the stack (netns-partition: its target in a network namespace) is
    // asked for before the stack comes up; a fault that cannot run here refuses the run.
    for (const auto& f : r_.schedule.faults) {
      const auto* kind = find_fault_kind(f.kind);
      if (!kind->prepare) continue;
      for (const auto& t : f.targets)
        if (const auto why = kind->prepare(*env_, t))
          unknown("fault " + f.kind + " on " + t + " cannot run on the " + o_.backend +
                  " backend here: " + *why);
    }
    if (unknown_) return;
    env_->start(services_needed(sc_, r_.schedule));
    // A hook fault the backend cannot do is refused before anything is injected.
    for (const auto& f : r_.schedule.faults) {
      const auto* kind = find_fault_kind(f.kind);
      if (kind->family != "hook") continue;
      for (const auto& t : f.targets) {
        auto* h = env_->handle(t);
        const std::string hook = kind->hook.empty() ? f.kind : kind->hook;
        if (h && !h->hooks().count(hook))
          unknown("the " + o_.backend + " backend offers no '" + hook + "' hook on " + t +
                  " (fault " + f.kind + ")");
      }
    }
    if (unknown_) return;
    for (const auto& w : sc_.workloads) {
      auto wl = find_workload_kind(w.name)->make(w, *env_);
      wl->setup();
      workloads_[w.name] = std::move(wl);
    }
    evaluator_ = std::make_unique<ops::RuleEvaluator>(alert_rules(sc_));
    start_ = env_->clock().now();
    step_once(Duration(0));  // one operation each, so metric probes have something to say
    for (const auto& o : probe("before"))
      if (!o.ok) unknown("steady state did not hold before the method: " + o.describe());
    if (unknown_) return;

    const Duration method_start = since_start();
    const Duration end = method_start + std::max<Duration>(sc_.duration, r_.schedule.end());
    Duration next_probe = method_start + sc_.steady_state.every;
    Duration next_step = since_start();
    std::size_t next_fault = 0;
    while (since_start() < end) {
      if (stop_requested())
        return unknown("interrupted (SIGINT/SIGTERM): faults healed, rollbacks run");
      if (since_start() > sc_.budget.max_duration)
        return fail("budget exceeded: the run passed its max-duration");
      const Duration rel = since_start() - method_start;
      heal_due(rel);
      while (next_fault < r_.schedule.faults.size() && r_.schedule.faults[next_fault].at <= rel)
        inject(r_.schedule.faults[next_fault++]);
      if (since_start() >= next_step) {
        step_once(method_start);
        if (since_start() >= next_probe) {
          next_probe += sc_.steady_state.every;
          for (const auto& o : probe("during"))
            if (!o.ok && sc_.budget.abort_on_deviation)
              return fail("aborted: steady state deviated beyond tolerance during the method: " +
                          o.describe());
        }
        next_step = (since_start() / sc_.step + 1) * sc_.step;
      }
      // Faults land and heal at their scheduled times, not at the next step: time moves to
      // whichever comes first, the next step, injection or heal.
      Duration next = next_step;
      if (next_fault < r_.schedule.faults.size())
        next = std::min(next, method_start + r_.schedule.faults[next_fault].at);
      for (const auto& a : active_)
        next = std::min(next, method_start + a.planned.at + a.planned.duration);
      advance_to(std::max(next, since_start()));
    }
    heal_all();
    recover();
    for (auto& [_, w] : workloads_) w->finish();
    r_.checks = run_checkers(sc_.invariants, env_->journal().events());
    for (const auto& c : r_.checks) {
      env_->journal().append("check", c.check,
                             {{"status", to_string(c.status)}, {"detail", c.detail}});
      if (c.status == CheckResult::Status::fail) {
        ++r_.invariant_failures;
        fail("invariant " + c.check + " failed: " + c.detail);
      } else if (c.status == CheckResult::Status::unknown) {
        unknown("invariant " + c.check + " undecided: " + c.detail);
      }
    }
  }

  void recover() {
    const Duration deadline = since_start() + sc_.steady_state.recover;
    for (;;) {
      step_once(Duration(0));
      bool ok = true;
      std::string why;
      for (const auto& o : probe("after"))
        if (!o.ok) ok = false, why = o.describe();
      if (ok) return;
      if (since_start() >= deadline || stop_requested())
        return fail("steady state not restored within " +
                    std::to_string(sc_.steady_state.recover.count() / 1000) +
                    "s after the heal: " + why);
      advance_to((since_start() / sc_.step + 1) * sc_.step);
    }
  }

  void step_once(Duration) {
    // Health monitoring (restarts by policy) every kMonitorEvery of scenario time: a paused
    // service makes every health probe wait out its timeout in real time.
    if (!last_monitor_ || since_start() - *last_monitor_ >= kMonitorEvery) {
      last_monitor_ = since_start();
      env_->monitor();
    }
    std::map<std::string, double> values;
    for (auto& [name, w] : workloads_) {
      w->step();
      for (const auto& [k, v] : w->metrics()) values[name + "." + k] = v;
    }
    for (const auto& a : evaluator_->evaluate(values, env_->clock().now())) {
      if (a.resolved)
        firing_.erase(a.rule);
      else
        firing_.insert(a.rule);
      env_->journal().append("alert", a.rule,
                             {{"state", a.resolved ? "resolved" : "firing"},
                              {"value", a.value},
                              {"severity", ops::to_string(a.severity)}});
    }
  }

  std::vector<ProbeOutcome> probe(const std::string& phase) {
    ProbeContext c{*env_, workloads_, firing_};
    return check_hypothesis(sc_.steady_state, phase, c);
  }

  void advance_to(Duration target_since_start) {
    const TimePoint target = start_ + skew_ + target_since_start;
    if (auto* m = env_->manual_clock()) {
      if (m->now() < target) m->advance(target - m->now());
    } else {
      while (env_->clock().now() < target && !stop_requested())
        env_->clock().sleep_for(
            std::min<Duration>(target - env_->clock().now(), std::chrono::milliseconds(100)));
    }
  }

  void inject(const PlannedFault& f) {
    const std::string subject = "fault-" + std::to_string(f.index);
    const auto* kind = find_fault_kind(f.kind);
    Active a{f, {}};
    env_->journal().append(event_kind::kFaultInject, subject,
                           {{"kind", f.kind},
                            {"targets", f.targets},
                            {"params", f.params},
                            {"duration_ms", f.duration.count()}});
    if (f.kind == "clock-skew") skew_ += std::chrono::milliseconds(f.params.value("ms", 60'000));
    try {
      if (f.targets.empty() && kind->family == "engine")
        a.parts.push_back(kind->inject(*env_, "", f.params));
      for (const auto& t : f.targets) a.parts.push_back(kind->inject(*env_, t, f.params));
      ++r_.faults_injected;
    } catch (const std::exception& e) {
      unknown("fault " + f.kind + " could not be injected: " + e.what());
    }
    active_.push_back(std::move(a));
  }

  void heal(Active& a) {
    for (auto& p : a.parts) p->heal();
    env_->journal().append(event_kind::kFaultHeal, "fault-" + std::to_string(a.planned.index),
                           {{"kind", a.planned.kind}, {"targets", a.planned.targets}});
  }

  void heal_due(Duration rel) {
    for (auto it = active_.begin(); it != active_.end();) {
      if (it->planned.at + it->planned.duration <= rel) {
        heal(*it);
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void heal_all() {
    for (auto& a : active_) {
      try {
        heal(a);
      } catch (const std::exception& e) {
        r_.reasons.push_back(std::string("healing: ") + e.what());
      }
    }
    active_.clear();
  }

  void rollbacks() {
    for (const auto& rb : sc_.rollbacks) {
      try {
        if (rb.action == "reset-proxies") env_->proxies().reset();
        if (rb.action == "restart") env_->monitor();
        env_->journal().append("rollback", rb.action, {{"target", rb.target}, {"ok", true}});
      } catch (const std::exception& e) {
        env_->journal().append("rollback", rb.action, {{"target", rb.target}, {"ok", false}});
        r_.reasons.push_back("rollback " + rb.action + " failed: " + e.what());
      }
    }
  }

  const Scenario& sc_;
  const RunOptions& o_;
  RunResult& r_;
  std::unique_ptr<Environment> env_;
  std::map<std::string, std::unique_ptr<Workload>> workloads_;
  std::unique_ptr<ops::RuleEvaluator> evaluator_;
  std::set<std::string> firing_;
  std::vector<Active> active_;
  TimePoint start_{};
  Duration skew_{0};
  std::optional<Duration> last_monitor_;
  static constexpr Duration kMonitorEvery = std::chrono::seconds(3);
  bool failed_ = false, unknown_ = false;
};

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}
bool stop_requested() {
  return g_stop.load();
}
void clear_stop_request() {
  g_stop.store(false);
}

std::string reproduce_command(const std::string& scenario, std::uint64_t seed,
                              const std::string& backend) {
  return "faultline chaos run " + scenario + " --seed " + std::to_string(seed) + " --backend " +
         backend;
}

nlohmann::json RunResult::to_json() const {
  auto checks_json = nlohmann::json::array();
  for (const auto& c : checks)
    checks_json.push_back(
        {{"check", c.check}, {"status", to_string(c.status)}, {"detail", c.detail}});
  return {{"scenario", scenario},
          {"backend", backend},
          {"seed", seed},
          {"verdict", verdict},
          {"reasons", reasons},
          {"checks", checks_json},
          {"covers", covers},
          {"schedule", schedule.to_json()},
          {"digest", digest},
          {"faults_injected", faults_injected},
          {"invariant_failures", invariant_failures},
          {"wall_seconds", wall_seconds},
          {"simulated_seconds", simulated_seconds},
          {"reproduce", reproduce}};
}

RunResult run_scenario(const Scenario& sc, const RunOptions& o) {
  const auto wall0 = std::chrono::steady_clock::now();
  RunResult r;
  r.scenario = sc.name;
  r.backend = o.backend;
  r.seed = o.seed;
  r.covers = sc.covers;
  r.reproduce = reproduce_command(sc.name, o.seed, o.backend);
  const stack::Stack stack =
      o.stack ? *o.stack
              : load_scenario_stack(sc.stack, std::filesystem::path(sc.file).parent_path());
  r.schedule = o.schedule ? *o.schedule : plan_schedule(sc, stack, o.backend, o.seed);
  if (o.dry_run) {
    r.verdict = "dry-run";
    return r;
  }
  std::filesystem::create_directories(o.out_dir);
  r.journal = o.out_dir / "journal.jsonl";
  Run run(sc, o, r);
  try {
    run.execute(stack);
    r.verdict = run.verdict();
  } catch (const std::exception& e) {
    r.verdict = "unknown";
    r.reasons.push_back(std::string("could not run: ") + e.what());
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return r;
}

}  // namespace faultline::chaos
