#include "chaos/engine/scenario_loader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "chaos/engine/checkers.h"
#include "chaos/engine/environment.h"
#include "chaos/engine/fault_kind.h"
#include "chaos/engine/probes.h"
#include "chaos/engine/workload.h"
#include "harness/core/text.h"
#include "harness/stack/values.h"

namespace faultline::chaos {
namespace {

// Converts a YAML mapping (params) to JSON, scalars typed.
nlohmann::json to_json(const YAML::Node& n) {
  if (!n || n.IsNull()) return nlohmann::json::object();
  if (n.IsScalar()) return scalar_to_json(n);
  if (n.IsSequence()) {
    auto a = nlohmann::json::array();
    for (const auto& x : n) a.push_back(to_json(x));
    return a;
  }
  auto o = nlohmann::json::object();
  for (const auto& kv : n) o[kv.first.Scalar()] = to_json(kv.second);
  return o;
}

class Loader {
 public:
  Loader(const std::string& file, const std::string& backend, const stack::Stack* stack)
      : r_(file), backend_(backend), override_(stack) {}

  Scenario load(std::string_view text) {
    const YAML::Node root = r_.parse(text, "scenario file");
    if (!root.IsMap()) r_.fail(root, "a scenario file is a mapping (see scenarios/README.md)");
    r_.check_keys(
        root,
        {"scenario", "description", "covers", "stack", "modes", "duration", "step", "workloads",
         "steady-state", "method", "alerts", "invariants", "rollbacks", "budget"},
        "scenario");
    Scenario s;
    s.file = r_.file();
    s.name = r_.scalar(root, "scenario", true, "scenario");
    s.description = r_.scalar(root, "description", false, "scenario");
    s.covers = r_.strings(root, "covers");
    s.stack = r_.scalar(root, "stack", false, "scenario");
    s.modes = r_.strings(root, "modes");
    if (s.modes.empty()) s.modes = {"fake"};
    for (const auto& m : s.modes)
      if (m != "fake" && m != "local" && m != "external")
        r_.fail(root["modes"],
                "unknown mode '" + m + "'" + did_you_mean(m, {"fake", "local", "external"}));
    if (override_) {
      stack_ = *override_;
    } else {
      try {
        stack_ = load_scenario_stack(s.stack, std::filesystem::path(r_.file()).parent_path());
      } catch (const InputError&) {
        throw;
      } catch (const std::exception& e) {
        r_.fail(root["stack"].IsDefined() ? root["stack"] : root, e.what());
      }
    }
    if (root["duration"]) s.duration = parse_millis(r_, root["duration"], "duration");
    if (root["step"]) s.step = parse_millis(r_, root["step"], "step");
    if (s.step.count() <= 0) r_.fail(root, "step must be more than 0");
    if (const auto b = root["budget"]) {
      r_.check_keys(b, {"max-duration", "abort-on-deviation"}, "budget");
      if (b["max-duration"])
        s.budget.max_duration = parse_millis(r_, b["max-duration"], "max-duration");
      if (const auto abort = b["abort-on-deviation"]) {
        const std::string v = r_.as_scalar(abort, "abort-on-deviation");
        if (v != "true" && v != "false") r_.fail(abort, "abort-on-deviation must be true or false");
        s.budget.abort_on_deviation = v == "true";
      }
    }
    for (const auto& w : root["workloads"]) s.workloads.push_back(workload(w));
    if (const auto ss = root["steady-state"]) steady_state(ss, s);
    if (const auto alerts = root["alerts"])
      for (const auto& a : alerts) s.alerts.push_back(alert(a));
    for (const auto& p : s.steady_state.probes) check_probe_refs(p, s);
    if (const auto m = root["method"]) method(m, s);
    for (const auto& i : root["invariants"]) s.invariants.push_back(invariant(i, s));
    for (const auto& rb : root["rollbacks"]) s.rollbacks.push_back(rollback(rb));
    check_budget(root, s);
    return s;
  }

 private:
  const stack::Service& service(const YAML::Node& node, const std::string& name) {
    const auto* svc = stack_.find(name);
    if (!svc) {
      std::vector<std::string> names;
      for (const auto& x : stack_.services) names.push_back(x.name);
      r_.fail(node, "unknown target '" + name + "': the stack '" + stack_.name +
                        "' has no such service" + did_you_mean(name, names));
    }
    return *svc;
  }

  WorkloadSpec workload(const YAML::Node& n) {
    r_.check_keys(n, {"workload", "target", "params"}, "workload");
    WorkloadSpec w;
    w.where = r_.at(n);
    w.name = r_.scalar(n, "workload", true, "workload");
    const auto* kind = find_workload_kind(w.name);
    if (!kind)
      r_.fail(n["workload"],
              "unknown workload '" + w.name + "'" + did_you_mean(w.name, workload_kind_names()));
    w.target = r_.scalar(n, "target", true, "workload");
    service(n["target"], w.target);
    w.params = to_json(n["params"]);
    check_params(n["params"], kind->params, "workload " + w.name);
    return w;
  }

  void steady_state(const YAML::Node& n, Scenario& s) {
    r_.check_keys(n, {"every", "recover", "probes"}, "steady-state");
    if (n["every"]) s.steady_state.every = parse_millis(r_, n["every"], "every");
    if (s.steady_state.every.count() <= 0) r_.fail(n, "every must be more than 0");
    if (n["recover"]) s.steady_state.recover = parse_millis(r_, n["recover"], "recover");
    for (const auto& p : n["probes"]) {
      r_.check_keys(
          p, {"name", "probe", "target", "workload", "metric", "alert", "tolerance", "during"},
          "probe");
      ProbeSpec ps;
      ps.where = r_.at(p);
      ps.name = r_.scalar(p, "name", true, "probe");
      ps.kind = r_.scalar(p, "probe", true, "probe");
      if (!find_probe_kind(ps.kind))
        r_.fail(p["probe"],
                "unknown probe '" + ps.kind + "'" + did_you_mean(ps.kind, probe_kind_names()));
      ps.target = r_.scalar(p, "target", false, "probe");
      ps.workload = r_.scalar(p, "workload", false, "probe");
      ps.metric = r_.scalar(p, "metric", false, "probe");
      ps.alert = r_.scalar(p, "alert", false, "probe");
      if (!p["tolerance"]) r_.fail(p, "probe '" + ps.name + "' needs a tolerance");
      ps.tolerance = parse_tolerance(r_, p["tolerance"]);
      if (p["during"]) ps.during = parse_tolerance(r_, p["during"]);
      s.steady_state.probes.push_back(ps);
      probe_nodes_.push_back(p);
    }
  }

  void check_probe_refs(const ProbeSpec& p, const Scenario& s) {
    const YAML::Node n = probe_nodes_.at(&p - &s.steady_state.probes[0]);
    const std::string needs = find_probe_kind(p.kind)->needs;
    if (needs == "target") {
      if (p.target.empty()) r_.fail(n, "probe '" + p.name + "' needs a target");
      service(n["target"], p.target);
    } else if (needs == "workload") {
      if (p.workload.empty() || p.metric.empty())
        r_.fail(n, "probe '" + p.name + "' needs a workload and a metric");
      check_workload_ref(n["workload"], p.workload, s);
    } else if (needs == "alert") {
      if (p.alert.empty()) r_.fail(n, "probe '" + p.name + "' needs an alert");
      check_alert_ref(n["alert"], p.alert, s);
    }
  }

  void check_workload_ref(const YAML::Node& n, const std::string& name, const Scenario& s) {
    std::vector<std::string> names;
    for (const auto& w : s.workloads) names.push_back(w.name);
    if (std::find(names.begin(), names.end(), name) == names.end())
      r_.fail(n, "unknown workload '" + name + "': the scenario runs none by that name" +
                     did_you_mean(name, names));
  }

  void check_alert_ref(const YAML::Node& n, const std::string& name, const Scenario& s) {
    std::vector<std::string> names;
    for (const auto& a : s.alerts) names.push_back(a.name);
    if (std::find(names.begin(), names.end(), name) == names.end())
      r_.fail(n, "unknown alert '" + name + "': the scenario's alerts: lists none by that name" +
                     did_you_mean(name, names));
  }

  void check_params(const YAML::Node& n, const std::vector<std::string>& allowed,
                    const std::string& what) {
    if (!n || n.IsNull()) return;
    if (!n.IsMap()) r_.fail(n, what + ": params must be a mapping");
    r_.check_keys(n, allowed, what + " params");
  }

  TargetSelector selector(const YAML::Node& n, const FaultKind* kind) {
    TargetSelector t;
    t.where = r_.at(n);
    if (n.IsScalar()) {
      t.names = {n.Scalar()};
    } else if (n.IsSequence()) {
      for (const auto& x : n) t.names.push_back(r_.as_scalar(x, "target"));
    } else {
      r_.check_keys(n, {"select", "of", "kind"}, "target");
      const std::string mode = r_.scalar(n, "select", true, "target");
      static const std::vector<std::string> modes = {"one", "minority", "majority", "all",
                                                     "random"};
      auto it = std::find(modes.begin(), modes.end(), mode);
      if (it == modes.end())
        r_.fail(n["select"], "unknown target selector '" + mode + "'" + did_you_mean(mode, modes));
      t.mode = static_cast<TargetSelector::Mode>(1 + (it - modes.begin()));
      t.names = r_.strings(n, "of");
      t.kind = r_.scalar(n, "kind", false, "target");
    }
    for (const auto& name : t.names) check_target(n, name, kind);
    if (t.mode != TargetSelector::Mode::named && t.names.empty()) {
      int candidates = 0;
      for (const auto& s : stack_.services)
        if ((t.kind.empty() || stack::to_string(s.kind) == t.kind) &&
            stack::chaos_allowed(s, backend_))
          ++candidates;
      if (!candidates)
        r_.fail(n, "no service of the stack may be chosen by this selector on the " + backend_ +
                       " backend");
    }
    return t;
  }

  void check_target(const YAML::Node& n, const std::string& name, const FaultKind* kind) {
    if (kind && kind->family == "engine") return;  // the application, not a service
    const auto& svc = service(n, name);
    if (!stack::chaos_allowed(svc, backend_))
      r_.fail(n, "target '" + name + "' is not chaos-allowed on the " + backend_ +
                     " backend: the stack file must say `chaos: allowed` for it");
  }

  const FaultKind* fault_kind(const YAML::Node& n, const std::string& name) {
    const auto* k = find_fault_kind(name);
    if (!k) r_.fail(n, "unknown fault '" + name + "'" + did_you_mean(name, fault_kind_names()));
    if (k->fake_only && backend_ != "fake")
      r_.fail(n, "fault '" + name + "' runs only on the fake backend (simulated time), not " +
                     backend_);
    return k;
  }

  void method(const YAML::Node& n, Scenario& s) {
    r_.check_keys(n, {"faults", "random"}, "method");
    for (const auto& f : n["faults"]) {
      r_.check_keys(f, {"fault", "target", "at", "duration", "params"}, "fault");
      FaultSpec fs;
      fs.where = r_.at(f);
      fs.kind = r_.scalar(f, "fault", true, "fault");
      const auto* kind = fault_kind(f["fault"], fs.kind);
      if (!f["target"]) r_.fail(f, "fault '" + fs.kind + "' needs a target");
      if (!f["at"]) r_.fail(f, "fault '" + fs.kind + "' needs at: (when it starts)");
      fs.target = selector(f["target"], kind);
      fs.at = parse_millis(r_, f["at"], "at");
      if (f["duration"]) fs.duration = parse_millis(r_, f["duration"], "duration");
      check_params(f["params"], kind->params, "fault " + fs.kind);
      fs.params = to_json(f["params"]);
      s.faults.push_back(fs);
      fault_nodes_.push_back(f);
    }
    if (const auto rnd = n["random"]) {
      r_.check_keys(rnd, {"count", "kinds", "target", "window", "duration", "params"}, "random");
      RandomSchedule rs;
      rs.where = r_.at(rnd);
      const auto count = scalar_to_json(rnd["count"] ? rnd["count"] : YAML::Node("0"));
      rs.count = count.is_number_integer() ? count.get<int>() : 0;
      if (rs.count < 1 || rs.count > 100) r_.fail(rnd, "random needs count: 1..100");
      rs.kinds = r_.strings(rnd, "kinds");
      if (rs.kinds.empty()) r_.fail(rnd, "random needs kinds: [...]");
      const FaultKind* any = nullptr;
      for (std::size_t i = 0; i < rs.kinds.size(); ++i)
        any = fault_kind(rnd["kinds"].IsSequence() ? rnd["kinds"][i] : rnd["kinds"], rs.kinds[i]);
      if (!rnd["target"]) r_.fail(rnd, "random needs a target");
      rs.target = selector(rnd["target"], any);
      const auto w = rnd["window"], d = rnd["duration"];
      if (!w.IsDefined() || !w.IsSequence() || w.size() != 2)
        r_.fail(rnd, "random needs window: [from, to]");
      if (!d.IsDefined() || !d.IsSequence() || d.size() != 2)
        r_.fail(rnd, "random needs duration: [min, max]");
      rs.from = parse_millis(r_, w[0], "window"), rs.to = parse_millis(r_, w[1], "window");
      rs.min_duration = parse_millis(r_, d[0], "duration"),
      rs.max_duration = parse_millis(r_, d[1], "duration");
      if (rs.from >= rs.to) r_.fail(w, "window must start before it ends");
      if (rs.min_duration > rs.max_duration) r_.fail(d, "duration: min is above max");
      rs.params = to_json(rnd["params"]);
      s.random = rs;
      random_node_ = rnd;
    }
  }

  AlertSpec alert(const YAML::Node& n) {
    r_.check_keys(n, {"alert", "metric", "above", "below", "for", "severity"}, "alert");
    AlertSpec a;
    a.where = r_.at(n);
    a.name = r_.scalar(n, "alert", true, "alert");
    a.metric = r_.scalar(n, "metric", true, "alert");
    if (a.metric.find('.') == std::string::npos)
      r_.fail(n["metric"], "metric must be <workload>.<metric>");
    const auto v = n["above"] ? n["above"] : n["below"];
    if (!v) r_.fail(n, "an alert needs above: or below:");
    a.above = static_cast<bool>(n["above"]);
    auto num = scalar_to_json(v);
    if (!num.is_number()) r_.fail(v, "threshold '" + v.Scalar() + "' is not a number");
    a.threshold = num.get<double>();
    if (n["for"]) a.for_duration = parse_millis(r_, n["for"], "for");
    a.severity = n["severity"] ? r_.scalar(n, "severity", false, "alert") : "warning";
    return a;
  }

  InvariantSpec invariant(const YAML::Node& n, const Scenario& s) {
    r_.check_keys(n, {"check", "workload", "target", "alert", "within", "params"}, "invariant");
    InvariantSpec i;
    i.where = r_.at(n);
    i.check = r_.scalar(n, "check", true, "invariant");
    const auto* k = find_checker_kind(i.check);
    if (!k)
      r_.fail(n["check"],
              "unknown checker '" + i.check + "'" + did_you_mean(i.check, checker_kind_names()));
    i.workload = r_.scalar(n, "workload", false, "invariant");
    i.target = r_.scalar(n, "target", false, "invariant");
    i.alert = r_.scalar(n, "alert", false, "invariant");
    for (const auto& need : k->needs) {
      if (!n[need]) r_.fail(n, "checker '" + i.check + "' needs " + need + ":");
      if (need == "workload") check_workload_ref(n["workload"], i.workload, s);
      if (need == "target") service(n["target"], i.target);
      if (need == "alert") check_alert_ref(n["alert"], i.alert, s);
      if (need == "within") i.within = parse_millis(r_, n["within"], "within");
    }
    check_params(n["params"], k->params, "checker " + i.check);
    i.params = to_json(n["params"]);
    return i;
  }

  RollbackSpec rollback(const YAML::Node& n) {
    r_.check_keys(n, {"action", "target"}, "rollback");
    RollbackSpec rb;
    rb.where = r_.at(n);
    rb.action = r_.scalar(n, "action", true, "rollback");
    static const std::vector<std::string> actions = {"heal-all", "reset-proxies", "restart"};
    if (std::find(actions.begin(), actions.end(), rb.action) == actions.end())
      r_.fail(n["action"],
              "unknown rollback '" + rb.action + "'" + did_you_mean(rb.action, actions));
    rb.target = r_.scalar(n, "target", rb.action == "restart", "rollback");
    if (!rb.target.empty()) service(n["target"], rb.target);
    return rb;
  }

  void check_budget(const YAML::Node& root, const Scenario& s) {
    auto over = [&](Millis end, const YAML::Node& at) {
      if (end > s.budget.max_duration)
        r_.fail(at, "the schedule runs to " + std::to_string(end.count() / 1000) +
                        "s, longer than the budget's max-duration of " +
                        std::to_string(s.budget.max_duration.count() / 1000) + "s");
    };
    over(s.duration, root["duration"].IsDefined() ? root["duration"] : root);
    for (std::size_t i = 0; i < s.faults.size(); ++i)
      over(s.faults[i].at + s.faults[i].duration, fault_nodes_[i]);
    if (s.random) over(s.random->to + s.random->max_duration, random_node_);
  }

  YamlReader r_;
  std::string backend_;
  const stack::Stack* override_;
  stack::Stack stack_;
  std::vector<YAML::Node> probe_nodes_, fault_nodes_;
  YAML::Node random_node_;
};

}  // namespace

Millis parse_millis(const YamlReader& reader, const YAML::Node& node, const std::string& what) {
  if (!node) throw InputError({reader.file(), 0, 0}, what + " is required");
  const std::string text = reader.as_scalar(node, what);
  auto d = stack::parse_duration(text);
  if (!d) reader.fail(node, what + " '" + text + "' is not a duration (e.g. 500ms, 10s, 1m30s)");
  return *d;
}

Scenario parse_scenario(std::string_view text, const std::string& file, const std::string& backend,
                        const stack::Stack* stack) {
  return Loader(file, backend, stack).load(text);
}

Scenario load_scenario(const std::filesystem::path& file, const std::string& backend,
                       const stack::Stack* stack) {
  std::ifstream in(file);
  if (!in) throw InputError({file.string(), 0, 0}, "cannot read the scenario file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), file.string(), backend, stack);
}

bool Scenario::supports(const std::string& backend) const {
  return std::find(modes.begin(), modes.end(), backend) != modes.end();
}

}  // namespace faultline::chaos
