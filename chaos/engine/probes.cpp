#include "chaos/engine/probes.h"

#include "chaos/engine/environment.h"
#include "chaos/engine/workload.h"

namespace faultline::chaos {
namespace {

const std::vector<ProbeKind>& kinds() {
  static const std::vector<ProbeKind> k = {
      {"service-healthy", "target", "the target answers its health probe and is running",
       [](const ProbeSpec& p, ProbeContext& c) -> nlohmann::json {
         auto* h = c.env.handle(p.target);
         if (!h || !h->running()) return false;
         bool ok = false;
         c.env.driver().run([&] { ok = h->probe().ok; });
         return ok;
       }},
      {"metric", "workload", "a workload's current metric (see each workload's metrics)",
       [](const ProbeSpec& p, ProbeContext& c) -> nlohmann::json {
         auto it = c.workloads.find(p.workload);
         if (it == c.workloads.end()) return nullptr;
         auto m = it->second->metrics();
         auto v = m.find(p.metric);
         return v == m.end() ? nlohmann::json(nullptr) : nlohmann::json(v->second);
       }},
      {"alert-firing", "alert", "whether an alert rule of the scenario is firing now",
       [](const ProbeSpec& p, ProbeContext& c) -> nlohmann::json {
         return c.firing_alerts.count(p.alert) > 0;
       }},
  };
  return k;
}

}  // namespace

const ProbeKind* find_probe_kind(const std::string& name) {
  for (const auto& k : kinds())
    if (k.name == name) return &k;
  return nullptr;
}

std::vector<std::string> probe_kind_names() {
  std::vector<std::string> out;
  for (const auto& k : kinds()) out.push_back(k.name);
  return out;
}

std::string ProbeOutcome::describe() const {
  return probe + " = " + value.dump() + (ok ? "" : " (outside tolerance)");
}

std::vector<ProbeOutcome> check_hypothesis(const SteadyState& hypothesis, const std::string& phase,
                                           ProbeContext& context) {
  std::vector<ProbeOutcome> out;
  for (const auto& p : hypothesis.probes) {
    const Tolerance* t = &p.tolerance;
    if (phase == "during") {
      if (!p.during) continue;
      t = &*p.during;
    }
    ProbeOutcome o;
    o.probe = p.name;
    try {
      o.value = find_probe_kind(p.kind)->measure(p, context);
    } catch (const std::exception& e) {
      o.value = std::string("error: ") + e.what();
    }
    o.ok = !o.value.is_null() && t->accepts(o.value);
    context.env.journal().append(event_kind::kProbe, p.name,
                                 {{"phase", phase},
                                  {"kind", p.kind},
                                  {"target", p.target},
                                  {"value", o.value},
                                  {"ok", o.ok},
                                  {"tolerance", t->describe()}});
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace faultline::chaos
