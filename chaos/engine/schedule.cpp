#include "chaos/engine/schedule.h"

#include <algorithm>
#include <cstdio>

#include <yaml-cpp/yaml.h>

#include "chaos/engine/fault_kind.h"

namespace faultline::chaos {

Millis Schedule::end() const {
  Millis e{0};
  for (const auto& f : faults) e = std::max(e, f.at + f.duration);
  return e;
}

nlohmann::json Schedule::to_json() const {
  auto a = nlohmann::json::array();
  for (const auto& f : faults)
    a.push_back({{"index", f.index},
                 {"kind", f.kind},
                 {"targets", f.targets},
                 {"at_ms", f.at.count()},
                 {"duration_ms", f.duration.count()},
                 {"params", f.params},
                 {"selector", f.selector}});
  return a;
}

std::string_view to_string(TargetSelector::Mode mode) {
  switch (mode) {
    case TargetSelector::Mode::named:
      return "named";
    case TargetSelector::Mode::one:
      return "one";
    case TargetSelector::Mode::minority:
      return "minority";
    case TargetSelector::Mode::majority:
      return "majority";
    case TargetSelector::Mode::all:
      return "all";
    case TargetSelector::Mode::random:
      return "random";
  }
  return "named";
}

std::string TargetSelector::describe() const {
  std::string out(to_string(mode));
  if (!kind.empty()) out += " kind=" + kind;
  if (!names.empty()) {
    out += " of [";
    for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
    out += "]";
  }
  return out;
}

std::vector<std::string> select_targets(const TargetSelector& sel, const stack::Stack& stack,
                                        const std::string& backend, Rng& rng) {
  if (sel.mode == TargetSelector::Mode::named) return sel.names;
  std::vector<std::string> candidates;
  for (const auto& s : stack.services) {
    if (!sel.names.empty() &&
        std::find(sel.names.begin(), sel.names.end(), s.name) == sel.names.end())
      continue;
    if (!sel.kind.empty() && stack::to_string(s.kind) != sel.kind) continue;
    if (stack::chaos_allowed(s, backend)) candidates.push_back(s.name);
  }
  const std::size_t n = candidates.size();
  if (n == 0) return {};
  std::size_t take = 1;
  switch (sel.mode) {
    case TargetSelector::Mode::one:
      take = 1;
      break;
    case TargetSelector::Mode::minority:
      take = std::max<std::size_t>(1, (n - 1) / 2);
      break;
    case TargetSelector::Mode::majority:
      take = n / 2 + 1;
      break;
    case TargetSelector::Mode::all:
      take = n;
      break;
    case TargetSelector::Mode::random:
      take = 1 + rng.index(n);
      break;
    case TargetSelector::Mode::named:
      break;
  }
  // Partial Fisher-Yates with our own Rng: the same seed picks the same services everywhere.
  for (std::size_t i = 0; i < take; ++i) std::swap(candidates[i], candidates[i + rng.index(n - i)]);
  candidates.resize(take);
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

Schedule plan_schedule(const Scenario& sc, const stack::Stack& stack, const std::string& backend,
                       std::uint64_t seed) {
  const Rng root(seed);
  Schedule out;
  int index = 0;
  for (const auto& f : sc.faults) {
    Rng rng = root.child("targets/" + std::to_string(index + 1));
    PlannedFault p{++index, f.kind, {}, f.at, f.duration, f.params, f.target.describe()};
    if (find_fault_kind(f.kind)->family != "engine")
      p.targets = select_targets(f.target, stack, backend, rng);
    out.faults.push_back(p);
  }
  if (sc.random) {
    const auto& r = *sc.random;
    Rng rng = root.child("schedule");
    for (int i = 0; i < r.count; ++i) {
      PlannedFault p;
      p.index = ++index;
      p.kind = r.kinds[rng.index(r.kinds.size())];
      p.at = Millis(static_cast<std::int64_t>(rng.uniform(r.from.count(), r.to.count() - 1)));
      // Whole seconds read better in a shrunk scenario and change nothing that matters.
      p.at = Millis(p.at.count() / 1000 * 1000);
      p.duration = Millis(static_cast<std::int64_t>(
          rng.uniform(r.min_duration.count() / 1000, r.max_duration.count() / 1000) * 1000));
      p.params = r.params.value(p.kind, nlohmann::json::object());
      p.selector = r.target.describe();
      Rng trng = root.child("targets/" + std::to_string(p.index));
      if (find_fault_kind(p.kind)->family != "engine")
        p.targets = select_targets(r.target, stack, backend, trng);
      out.faults.push_back(p);
    }
  }
  std::stable_sort(out.faults.begin(), out.faults.end(),
                   [](const auto& a, const auto& b) { return a.at < b.at; });
  return out;
}

namespace {
std::string secs(Millis m) {
  char b[32];
  if (m.count() % 1000 == 0)
    std::snprintf(b, sizeof b, "%llds", static_cast<long long>(m.count() / 1000));
  else
    std::snprintf(b, sizeof b, "%lldms", static_cast<long long>(m.count()));
  return b;
}
}  // namespace

std::string describe_schedule(const Schedule& s) {
  std::string out;
  char line[256];
  for (const auto& f : s.faults) {
    std::string targets;
    for (const auto& t : f.targets) targets += (targets.empty() ? "" : ",") + t;
    std::snprintf(line, sizeof line, "  #%-3d %-20s %-16s at %-6s for %-6s %s\n", f.index,
                  f.kind.c_str(), targets.empty() ? "-" : targets.c_str(), secs(f.at).c_str(),
                  secs(f.duration).c_str(), f.params.empty() ? "" : f.params.dump().c_str());
    out += line;
  }
  if (s.faults.empty()) out = "  (no faults)\n";
  return out;
}

std::string scenario_with_schedule(const std::string& text, const Schedule& schedule,
                                   const std::string& new_name) {
  YAML::Node root = YAML::Load(text);
  root["scenario"] = new_name;
  YAML::Node method(YAML::NodeType::Map);
  YAML::Node faults(YAML::NodeType::Sequence);
  for (const auto& f : schedule.faults) {
    YAML::Node n(YAML::NodeType::Map);
    n["fault"] = f.kind;
    if (f.targets.size() == 1)
      n["target"] = f.targets[0];
    else if (f.targets.empty())
      n["target"] = "app";
    else
      for (const auto& t : f.targets) n["target"].push_back(t);
    n["at"] = secs(f.at);
    n["duration"] = secs(f.duration);
    if (!f.params.empty()) {
      YAML::Node params(YAML::NodeType::Map);
      for (auto& [k, v] : f.params.items())
        params[k] = v.is_string() ? v.get<std::string>() : v.dump();
      n["params"] = params;
    }
    faults.push_back(n);
  }
  method["faults"] = faults;
  root["method"] = method;
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace faultline::chaos
