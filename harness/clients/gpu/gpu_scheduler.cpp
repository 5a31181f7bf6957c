#include "harness/clients/gpu/gpu_scheduler.h"

#include <algorithm>

#include "harness/core/error.h"
#include "harness/core/log.h"

namespace faultline::clients {

namespace {

constexpr const char* kSubject = "gpu-scheduler";

nlohmann::json ref_json(const std::optional<GpuDeviceRef>& ref) {
  return ref ? nlohmann::json(ref->str()) : nlohmann::json(nullptr);
}

}  // namespace

std::string_view to_string(GpuJobState state) {
  switch (state) {
    case GpuJobState::running:
      return "running";
    case GpuJobState::pending:
      return "pending";
    case GpuJobState::completed:
      return "completed";
  }
  return "unknown";
}

GpuScheduler::GpuScheduler(Clock& clock, Journal* journal, ops::AlertManager* alerts)
    : clock_(clock), journal_(journal), alerts_(alerts) {}

void GpuScheduler::add_server(GpuProbe& probe) {
  {
    std::lock_guard lock(mu_);
    if (servers_.count(probe.server()) != 0) {
      throw InputError({}, "gpu scheduler: server '" + probe.server() + "' added twice");
    }
    servers_[probe.server()] = Server{&probe, false, false};
    server_order_.push_back(probe.server());
  }
  const GpuQueryResult result = probe.query_devices();
  std::lock_guard lock(mu_);
  read_server_locked(probe.server(), result);
}

void GpuScheduler::set_listener(std::function<void(const GpuJobMove&)> listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

void GpuScheduler::read_server_locked(const std::string& name, const GpuQueryResult& result) {
  for (const auto& r : result.devices) {
    if (r.index < 0) continue;
    Device& d = devices_[GpuDeviceRef{name, r.index}];
    if (d.health != r.health && journal_ != nullptr) {
      journal_->append("gpu.device", kSubject,
                       {{"device", GpuDeviceRef{name, r.index}.str()},
                        {"health", std::string(to_string(r.health))},
                        {"was", std::string(to_string(d.health))},
                        {"reason", r.reason}});
    }
    d.health = r.health;
    d.reason = r.reason;
    if (r.memory_total_mib) d.memory_total_mib = *r.memory_total_mib;
  }
}

std::uint64_t GpuScheduler::memory_held_locked(const GpuDeviceRef& device) const {
  std::uint64_t held = 0;
  for (const auto& [id, job] : jobs_) {
    if (job.state == GpuJobState::running && job.device == device) held += job.job.memory_mib;
  }
  return held;
}

std::optional<GpuDeviceRef> GpuScheduler::choose_locked(const GpuJobStatus& job,
                                                        const std::string& prefer_server) const {
  std::vector<std::string> order;
  if (!prefer_server.empty()) order.push_back(prefer_server);
  for (const auto& s : server_order_) {
    if (s != prefer_server) order.push_back(s);
  }
  for (const auto& server : order) {
    if (servers_.at(server).evacuated) continue;
    std::optional<GpuDeviceRef> best;
    std::size_t best_jobs = 0;
    for (const auto& [ref, dev] : devices_) {
      if (ref.server != server || dev.health != GpuDeviceHealth::healthy) continue;
      if (dev.memory_total_mib > 0 &&
          memory_held_locked(ref) + job.job.memory_mib > dev.memory_total_mib) {
        continue;
      }
      const std::size_t n = jobs_on_locked(ref).size();
      if (!best || n < best_jobs) {
        best = ref;
        best_jobs = n;
      }
    }
    if (best) return best;
  }
  return std::nullopt;
}

void GpuScheduler::move_locked(GpuJobStatus& job, std::optional<GpuDeviceRef> to,
                               std::string reason, std::vector<GpuJobMove>& moves) {
  GpuJobMove move;
  move.job = job.job.id;
  move.from = job.device;
  move.to = to;
  move.resume_from = job.checkpoint;
  move.reason = std::move(reason);
  move.failover = move.from && move.to && move.from->server != move.to->server;
  if (move.from && move.to) ++job.moves;
  job.device = to;
  job.state = to ? GpuJobState::running : GpuJobState::pending;
  const char* kind = !move.to ? "gpu.job.pending" : move.from ? "gpu.job.move" : "gpu.job.place";
  if (journal_ != nullptr) {
    journal_->append(kind, kSubject,
                     {{"job", move.job},
                      {"from", ref_json(move.from)},
                      {"to", ref_json(move.to)},
                      {"resume_from", move.resume_from},
                      {"failover", move.failover},
                      {"reason", move.reason}});
  }
  moves.push_back(std::move(move));
}

void GpuScheduler::evacuate_locked(const GpuDeviceRef& device, const std::string& reason,
                                   std::vector<GpuJobMove>& moves) {
  for (const auto& id : submit_order_) {
    GpuJobStatus& job = jobs_.at(id);
    if (job.state != GpuJobState::running || job.device != device) continue;
    job.device.reset();  // the failed device no longer counts it while choosing
    auto to = choose_locked(job, device.server);
    job.device = device;
    move_locked(job, to, reason, moves);
  }
}

void GpuScheduler::place_pending_locked(std::vector<GpuJobMove>& moves) {
  for (const auto& id : submit_order_) {
    GpuJobStatus& job = jobs_.at(id);
    if (job.state != GpuJobState::pending) continue;
    if (auto to = choose_locked(job, "")) move_locked(job, to, "placed", moves);
  }
}

void GpuScheduler::alert_locked(const std::string& rule, ops::Severity severity,
                                std::map<std::string, std::string> labels, double value,
                                bool resolved, std::string summary) {
  if (alerts_ == nullptr) return;
  ops::Alert a;
  a.rule = rule;
  a.severity = severity;
  labels["alertname"] = rule;
  labels["severity"] = std::string(ops::to_string(severity));
  a.labels = std::move(labels);
  a.value = value;
  a.active_since = clock_.now();
  a.at = clock_.now();
  a.resolved = resolved;
  a.summary = std::move(summary);
  alerts_->submit(a);
}

void GpuScheduler::publish(const std::vector<GpuJobMove>& moves) {
  std::function<void(const GpuJobMove&)> listener;
  {
    std::lock_guard lock(mu_);
    listener = listener_;
  }
  if (!listener) return;
  for (const auto& m : moves) listener(m);
}

std::optional<GpuDeviceRef> GpuScheduler::submit(GpuJob job) {
  if (job.id.empty()) throw InputError({}, "gpu scheduler: a job needs an id");
  std::vector<GpuJobMove> moves;
  std::optional<GpuDeviceRef> placed;
  {
    std::lock_guard lock(mu_);
    if (jobs_.count(job.id) != 0) {
      throw InputError({}, "gpu scheduler: job '" + job.id + "' submitted twice");
    }
    GpuJobStatus& status = jobs_[job.id];
    status.job = std::move(job);
    submit_order_.push_back(status.job.id);
    placed = choose_locked(status, "");
    move_locked(status, placed, placed ? "placed" : "no healthy GPU left", moves);
    if (!placed && !stranded_alert_) {
      stranded_alert_ = true;
      alert_locked("GpuNoHealthyDevice", ops::Severity::critical, {}, 1, false,
                   "GPU jobs pending: no healthy GPU device is left");
    }
  }
  publish(moves);
  return placed;
}

void GpuScheduler::checkpoint(const std::string& id, std::uint64_t step) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.state == GpuJobState::completed) {
    throw InputError({}, "gpu scheduler: no running or pending job '" + id + "'");
  }
  it->second.checkpoint = std::max(it->second.checkpoint, step);
}

void GpuScheduler::complete(const std::string& id) {
  std::vector<GpuJobMove> moves;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) throw InputError({}, "gpu scheduler: no job '" + id + "'");
    if (it->second.state == GpuJobState::completed) return;
    const auto from = it->second.device;
    it->second.device.reset();
    it->second.state = GpuJobState::completed;
    if (journal_ != nullptr) {
      journal_->append(
          "gpu.job.complete", kSubject,
          {{"job", id}, {"device", ref_json(from)}, {"checkpoint", it->second.checkpoint}});
    }
    place_pending_locked(moves);  // the freed memory may fit a pending job
  }
  publish(moves);
}

std::vector<GpuJobMove> GpuScheduler::job_scheduler() {
  std::vector<std::pair<std::string, GpuProbe*>> probes;
  {
    std::lock_guard lock(mu_);
    for (const auto& name : server_order_) probes.emplace_back(name, servers_.at(name).probe);
  }
  std::vector<std::pair<std::string, GpuQueryResult>> results;
  for (const auto& [name, probe] : probes) results.emplace_back(name, probe->query_devices());

  std::vector<GpuJobMove> moves;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, result] : results) read_server_locked(name, result);
    // A server failed over by this loop comes back once one of its devices reads healthy.
    for (const auto& name : server_order_) {
      Server& server = servers_.at(name);
      if (!server.evacuated || server.manual) continue;
      for (const auto& [ref, dev] : devices_) {
        if (ref.server == name && dev.health == GpuDeviceHealth::healthy) server.evacuated = false;
      }
      if (!server.evacuated && journal_ != nullptr) {
        journal_->append("gpu.server.restore", kSubject, {{"server", name}});
      }
    }
    // A server whose every device failed is failed over as a whole.
    for (const auto& name : server_order_) {
      bool all_failed = true, any = false;
      for (const auto& [ref, dev] : devices_) {
        if (ref.server != name) continue;
        any = true;
        all_failed = all_failed && is_hardware_failure(dev.health);
      }
      if (any && all_failed && !servers_.at(name).evacuated) {
        servers_.at(name).evacuated = true;
        if (journal_ != nullptr)
          journal_->append("gpu.server.failover", kSubject, {{"server", name}});
        alert_locked("GpuServerFailedOver", ops::Severity::critical, {{"server", name}}, 1, false,
                     "every GPU of the server failed: jobs fail over to the next server");
      }
    }
    for (const auto& [ref, dev] : devices_) {
      if (!is_hardware_failure(dev.health)) continue;
      const std::size_t before = moves.size();
      evacuate_locked(ref,
                      "device " + ref.str() + " " + std::string(to_string(dev.health)) +
                          (dev.reason.empty() ? "" : ": " + dev.reason),
                      moves);
      if (moves.size() > before) {
        alert_locked("GpuJobsRescheduled", ops::Severity::warning,
                     {{"server", ref.server}, {"gpu", ref.cuda()}},
                     static_cast<double>(moves.size() - before), false,
                     "jobs moved off a failed GPU");
      }
    }
    place_pending_locked(moves);
    const bool stranded = !pending_locked().empty();
    if (stranded != stranded_alert_) {
      stranded_alert_ = stranded;
      alert_locked("GpuNoHealthyDevice", ops::Severity::critical, {},
                   static_cast<double>(pending_locked().size()), !stranded,
                   "GPU jobs pending: no healthy GPU device is left");
    }
  }
  publish(moves);
  return moves;
}

std::vector<GpuJobMove> GpuScheduler::failover_to_secondary(const std::string& server) {
  std::vector<GpuJobMove> moves;
  {
    std::lock_guard lock(mu_);
    auto it = servers_.find(server);
    if (it == servers_.end()) throw InputError({}, "gpu scheduler: no server '" + server + "'");
    it->second.evacuated = true;
    it->second.manual = true;
    if (journal_ != nullptr)
      journal_->append("gpu.server.failover", kSubject, {{"server", server}});
    for (const auto& [ref, dev] : devices_) {
      if (ref.server == server) evacuate_locked(ref, "failover of server " + server, moves);
    }
    if (!pending_locked().empty() && !stranded_alert_) {
      stranded_alert_ = true;
      alert_locked("GpuNoHealthyDevice", ops::Severity::critical, {},
                   static_cast<double>(pending_locked().size()), false,
                   "GPU jobs pending: no healthy GPU device is left");
    }
  }
  publish(moves);
  return moves;
}

std::vector<GpuJobMove> GpuScheduler::restore_server(const std::string& server) {
  std::vector<GpuJobMove> moves;
  {
    std::lock_guard lock(mu_);
    auto it = servers_.find(server);
    if (it == servers_.end()) throw InputError({}, "gpu scheduler: no server '" + server + "'");
    it->second.evacuated = false;
    it->second.manual = false;
    if (journal_ != nullptr) journal_->append("gpu.server.restore", kSubject, {{"server", server}});
    place_pending_locked(moves);
  }
  publish(moves);
  return moves;
}

std::optional<GpuJobStatus> GpuScheduler::job(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

std::vector<GpuJobStatus> GpuScheduler::jobs() const {
  std::lock_guard lock(mu_);
  std::vector<GpuJobStatus> out;
  for (const auto& id : submit_order_) out.push_back(jobs_.at(id));
  return out;
}

std::vector<std::string> GpuScheduler::jobs_on(const GpuDeviceRef& device) const {
  std::lock_guard lock(mu_);
  return jobs_on_locked(device);
}

std::vector<std::string> GpuScheduler::pending() const {
  std::lock_guard lock(mu_);
  return pending_locked();
}

std::vector<std::string> GpuScheduler::jobs_on_locked(const GpuDeviceRef& device) const {
  std::vector<std::string> out;
  for (const auto& id : submit_order_) {
    const auto& job = jobs_.at(id);
    if (job.state == GpuJobState::running && job.device == device) out.push_back(id);
  }
  return out;
}

std::vector<std::string> GpuScheduler::pending_locked() const {
  std::vector<std::string> out;
  for (const auto& id : submit_order_) {
    if (jobs_.at(id).state == GpuJobState::pending) out.push_back(id);
  }
  return out;
}

GpuDeviceHealth GpuScheduler::device_health(const GpuDeviceRef& device) const {
  std::lock_guard lock(mu_);
  auto it = devices_.find(device);
  return it == devices_.end() ? GpuDeviceHealth::unknown : it->second.health;
}

std::vector<GpuDeviceRef> GpuScheduler::devices() const {
  std::lock_guard lock(mu_);
  std::vector<GpuDeviceRef> out;
  for (const auto& [ref, dev] : devices_) out.push_back(ref);
  return out;
}

}  // namespace faultline::clients
