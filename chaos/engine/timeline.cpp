// timeline.html: one self-contained page per run — inline SVG, inline CSS, a few lines of script
// for hover details; no external asset, so it opens from a CI artifact store or a mail.
//
//   fault bands     one row per target, a band from injection to heal, labelled with the kind
//   operations      one row per workload, a mark per completed operation: ok (green), fail (red),
//                   info/in-doubt (amber)
//   probes          one row per probe, its values as a line (true/false as 1/0), deviations dotted
//   alerts          firing and resolved transitions
// followed by the verdict, reasons, checks, schedule and the reproduce command.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "chaos/engine/outputs.h"

namespace faultline::chaos {
namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

constexpr double kLeft = 170, kWidth = 1000, kRow = 26, kProbeRow = 50;

struct Scale {
  double t_max_s = 1;
  std::int64_t t0 = 0;  // the first event: a real clock's epoch is not the run's start
  double x(std::int64_t abs_ns) const {
    const std::int64_t ns = abs_ns - t0;
    return kLeft + (static_cast<double>(ns) / 1e9) / t_max_s * (kWidth - kLeft - 10);
  }
};

std::optional<double> numeric(const nlohmann::json& v) {
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_number()) return v.get<double>();
  return std::nullopt;
}

}  // namespace

std::string render_timeline(const RunResult& r, const std::vector<Event>& events) {
  Scale sc;
  if (!events.empty()) sc.t0 = events.front().sim_ns;
  for (const auto& e : events)
    sc.t_max_s = std::max(sc.t_max_s, static_cast<double>(e.sim_ns - sc.t0) / 1e9);

  // Fault bands per target.
  struct Band {
    std::string kind;
    std::int64_t from, to;
  };
  std::map<std::string, std::vector<Band>> bands;
  std::map<std::string, std::pair<std::string, std::int64_t>> open;  // subject -> kind, from
  std::map<std::string, std::vector<std::string>> targets_of;
  std::vector<std::string> workloads, probes;
  for (const auto& e : events) {
    if (e.kind == event_kind::kFaultInject) {
      open[e.subject] = {e.fields.value("kind", ""), e.sim_ns};
      auto t = e.fields.value("targets", std::vector<std::string>{});
      if (t.empty()) t = {"app"};
      targets_of[e.subject] = t;
    } else if (e.kind == event_kind::kFaultHeal && open.count(e.subject)) {
      for (const auto& t : targets_of[e.subject])
        bands[t].push_back({open[e.subject].first, open[e.subject].second, e.sim_ns});
      open.erase(e.subject);
    } else if ((e.kind == event_kind::kOpOk || e.kind == event_kind::kOpFail ||
                e.kind == event_kind::kOpInfo) &&
               std::find(workloads.begin(), workloads.end(), e.subject) == workloads.end()) {
      workloads.push_back(e.subject);
    } else if (e.kind == event_kind::kProbe &&
               std::find(probes.begin(), probes.end(), e.subject) == probes.end()) {
      probes.push_back(e.subject);
    }
  }
  for (auto& [subject, o] : open)
    for (const auto& t : targets_of[subject])
      bands[t].push_back({o.first, o.second, events.back().sim_ns});

  std::ostringstream svg;
  double y = 30;
  const double height =
      40 + kRow * (bands.size() + workloads.size() + 1) + kProbeRow * probes.size() + 20;
  svg << "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth
      << "\" height=\"" << height << "\">\n";
  // Time axis.
  const int ticks = 10;
  for (int i = 0; i <= ticks; ++i) {
    const double t = sc.t_max_s * i / ticks, x = sc.x(sc.t0 + static_cast<std::int64_t>(t * 1e9));
    svg << "<line class=\"grid\" x1=\"" << x << "\" y1=\"20\" x2=\"" << x << "\" y2=\""
        << height - 10 << "\"/>"
        << "<text class=\"tick\" x=\"" << x << "\" y=\"14\">" << static_cast<int>(t)
        << "s</text>\n";
  }
  for (const auto& [target, list] : bands) {
    svg << "<text class=\"label\" x=\"4\" y=\"" << y + 17 << "\">fault: " << esc(target)
        << "</text>\n";
    for (const auto& b : list) {
      const double x0 = sc.x(b.from), x1 = std::max(sc.x(b.to), x0 + 2);
      svg << "<rect class=\"fault-band\" data-kind=\"" << esc(b.kind) << "\" x=\"" << x0
          << "\" y=\"" << y + 3 << "\" width=\"" << x1 - x0 << "\" height=\"" << kRow - 6
          << "\"><title>" << esc(b.kind) << " on " << esc(target) << " " << b.from / 1000000
          << "ms-" << b.to / 1000000 << "ms</title></rect>"
          << "<text class=\"band-label\" x=\"" << x0 + 3 << "\" y=\"" << y + 17 << "\">"
          << esc(b.kind) << "</text>\n";
    }
    y += kRow;
  }
  for (const auto& w : workloads) {
    svg << "<text class=\"label\" x=\"4\" y=\"" << y + 17 << "\">ops: " << esc(w) << "</text>\n";
    for (const auto& e : events) {
      if (e.subject != w) continue;
      const char* cls = e.kind == event_kind::kOpOk     ? "ok"
                        : e.kind == event_kind::kOpFail ? "fail"
                        : e.kind == event_kind::kOpInfo ? "info"
                                                        : nullptr;
      if (!cls) continue;
      svg << "<rect class=\"op-mark " << cls << "\" x=\"" << sc.x(e.sim_ns) - 1.5 << "\" y=\""
          << y + 5 << "\" width=\"3\" height=\"" << kRow - 10 << "\"><title>"
          << esc(e.fields.value("op", "")) << " " << cls << " " << esc(e.fields.value("reason", ""))
          << " @" << e.sim_ns / 1000000 << "ms</title></rect>\n";
    }
    y += kRow;
  }
  for (const auto& p : probes) {
    double lo = 0, hi = 1;
    std::vector<std::pair<std::int64_t, double>> pts;
    std::vector<std::int64_t> bad;
    for (const auto& e : events) {
      if (e.kind != event_kind::kProbe || e.subject != p) continue;
      if (auto v = numeric(e.fields.value("value", nlohmann::json()))) {
        pts.emplace_back(e.sim_ns, *v);
        lo = std::min(lo, *v), hi = std::max(hi, *v);
      }
      if (!e.fields.value("ok", true)) bad.push_back(e.sim_ns);
    }
    svg << "<text class=\"label\" x=\"4\" y=\"" << y + 20 << "\">probe: " << esc(p) << "</text>"
        << "<text class=\"tick\" x=\"" << kLeft - 30 << "\" y=\"" << y + 10 << "\">" << hi
        << "</text>\n";
    svg << "<polyline class=\"probe-line\" data-probe=\"" << esc(p) << "\" points=\"";
    for (const auto& [t, v] : pts)
      svg << sc.x(t) << "," << y + kProbeRow - 6 - (v - lo) / (hi - lo) * (kProbeRow - 14) << " ";
    svg << "\"/>\n";
    for (auto t : bad)
      svg << "<circle class=\"probe-deviation\" cx=\"" << sc.x(t) << "\" cy=\"" << y + kProbeRow - 4
          << "\" r=\"3\"/>\n";
    y += kProbeRow;
  }
  svg << "<text class=\"label\" x=\"4\" y=\"" << y + 17 << "\">alerts</text>\n";
  for (const auto& e : events) {
    if (e.kind != "alert") continue;
    const bool firing = e.fields.value("state", "") == "firing";
    svg << "<path class=\"alert-mark " << (firing ? "firing" : "resolved") << "\" d=\"M"
        << sc.x(e.sim_ns) << " " << y + 4 << " l5 9 l-10 0 z\"><title>" << esc(e.subject) << " "
        << (firing ? "firing" : "resolved") << " @" << e.sim_ns / 1000000 << "ms</title></path>\n";
  }
  svg << "</svg>\n";

  std::ostringstream html;
  html
      << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>faultline chaos: "
      << esc(r.scenario)
      << "</title>\n<style>body{font:14px system-ui,sans-serif;margin:20px;color:#222}"
         ".verdict{font-weight:bold;padding:2px "
         "8px;border-radius:4px}.pass{background:#c8f0c8}.fail{background:#f5c2c2}"
         ".unknown{background:#f5e6b8}svg .grid{stroke:#eee}svg .tick{font-size:10px;fill:#888}svg "
         ".label{font-size:12px}"
         "svg .fault-band{fill:#f29b9b;opacity:.6}svg .band-label{font-size:10px}svg "
         ".op-mark.ok{fill:#2e9e44}"
         "svg .op-mark.fail{fill:#d62828}svg .op-mark.info{fill:#f0a202}svg "
         ".probe-line{fill:none;stroke:#3366cc;stroke-width:1.5}"
         "svg .probe-deviation{fill:#d62828}svg .alert-mark.firing{fill:#d62828}svg "
         ".alert-mark.resolved{fill:#2e9e44}"
         "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px "
         "8px;text-align:left}"
         "code{background:#f4f4f4;padding:2px "
         "4px}#hover{min-height:1.2em;color:#555}</style></head><body>\n";
  html << "<h1>" << esc(r.scenario) << " <span class=\"verdict " << esc(r.verdict)
       << "\" id=\"verdict\">" << esc(r.verdict) << "</span></h1>\n<p>backend <b>" << esc(r.backend)
       << "</b>, seed <b>" << r.seed << "</b>, " << r.faults_injected << " faults injected, "
       << r.simulated_seconds << " s of scenario time in " << r.wall_seconds
       << " s.<br>Reproduce: <code id=\"reproduce\">" << esc(r.reproduce)
       << "</code><br>Journal digest <code>" << r.digest << "</code></p>\n";
  if (!r.reasons.empty()) {
    html << "<ul id=\"reasons\">";
    for (const auto& why : r.reasons) html << "<li>" << esc(why) << "</li>";
    html << "</ul>\n";
  }
  html << "<div id=\"hover\"></div>\n" << svg.str();
  html << "<h2>Invariants</h2><table "
          "id=\"checks\"><tr><th>check</th><th>status</th><th>detail</th></tr>";
  for (const auto& c : r.checks)
    html << "<tr><td>" << esc(c.check) << "</td><td class=\"" << to_string(c.status) << "\">"
         << to_string(c.status) << "</td><td>" << esc(c.detail) << "</td></tr>";
  html
      << "</table>\n<h2>Schedule</h2><table "
         "id=\"schedule\"><tr><th>#</th><th>fault</th><th>targets</th><th>at</th><th>for</th></tr>";
  for (const auto& f : r.schedule.faults) {
    std::string t;
    for (const auto& x : f.targets) t += (t.empty() ? "" : ", ") + x;
    html << "<tr><td>" << f.index << "</td><td>" << esc(f.kind) << "</td><td>" << esc(t)
         << "</td><td>" << f.at.count() << " ms</td><td>" << f.duration.count() << " ms</td></tr>";
  }
  html << "</table>\n<p>Covers: " << esc([&] {
    std::string s;
    for (const auto& c : r.covers) s += c + " ";
    return s;
  }())
       << "</p>\n<script>\n(function(){var h=document.getElementById('hover');"
          "document.querySelectorAll('#timeline "
          "title').forEach(function(t){t.parentNode.addEventListener('mouseenter',"
          "function(){h.textContent=t.textContent;});});document.body.setAttribute('data-rendered',"
          "'1');})();\n"
          "</script>\n</body></html>\n";
  return html.str();
}

}  // namespace faultline::chaos
