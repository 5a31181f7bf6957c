// gpu-jobs: training jobs placed on the GPUs of the gpu service by GpuScheduler, which reads the
// devices through GpuProbe — the fake nvidia-smi on the service's state file (the fake backend,
// and the local backend without NVML), or NVML — and moves the jobs of a device that fails.
//
// `jobs` run at once out of `total`; each needs `steps` steps of work, holds `memory_mib` on its
// device and checkpoints every `checkpoint_every` steps. Every step is one job_scheduler() pass
// (journaled as the "schedule" operation: where each job is, which devices are unhealthy, which
// jobs moved and from which checkpoint they resume), then a step of work for every running job;
// a job that finishes is journaled as "complete" and the next one is submitted. A job that moved
// resumes from its last checkpoint (the work since is lost, as on a real failover). The
// scheduler's and the probe's own events (gpu.job.place, gpu.job.move, probe gpu/<server>) go to
// the journal too. The jobs-moved-off checker decides from the "schedule" and "complete" ops.
//
// nvidia-smi is a real process read in real time (bounded by its 5 s timeout): it is run on the
// runner's thread, not through the OpDriver, so simulated time does not move while it runs.
#include <set>

#include "chaos/engine/environment.h"
#include "chaos/engine/workload.h"
#include "harness/clients/gpu/gpu_probe.h"
#include "harness/clients/gpu/gpu_scheduler.h"

namespace faultline::chaos {
namespace {

class GpuJobsWorkload final : public Workload {
 public:
  GpuJobsWorkload(const WorkloadSpec& spec, Environment& env)
      : Workload(spec.name),
        env_(env),
        spec_(spec),
        window_(static_cast<std::size_t>(spec.params.value("window", 5))) {}

  void setup() override {
    auto* h = env_.handle(spec_.target);
    if (!h) throw Error("workload " + name() + ": service '" + spec_.target + "' is not running");
    const auto& ex = h->endpoint().exports;
    std::unique_ptr<clients::GpuSource> source;
    if (ex.count("GPU_SOURCE") && ex.at("GPU_SOURCE") == "nvml") {
      std::string why;
      source = clients::nvml_source(&why);
      if (!source) throw Error("workload " + name() + ": NVML: " + why);
    } else {
      if (!ex.count("FAULTLINE_FAKE_GPU_STATE") || !ex.count("FAULTLINE_FAKE_NVIDIA_SMI"))
        throw Error("workload " + name() + ": service '" + spec_.target +
                    "' exports no GPU state file (is it a gpu service?)");
      clients::NvidiaSmiOptions smi;
      smi.program = ex.at("FAULTLINE_FAKE_NVIDIA_SMI");
      smi.env = {{"FAULTLINE_FAKE_GPU_STATE", ex.at("FAULTLINE_FAKE_GPU_STATE")}};
      source = clients::nvidia_smi_source(smi);
    }
    clients::GpuProbeOptions po;
    po.server = spec_.target;
    probe_ = std::make_unique<clients::GpuProbe>(env_.clock(), std::move(source), &env_.journal(),
                                                 nullptr, po);
    scheduler_ = std::make_unique<clients::GpuScheduler>(env_.clock(), &env_.journal());
    scheduler_->add_server(*probe_);
    concurrent_ = spec_.params.value("jobs", 4);
    total_ = spec_.params.value("total", 6);
    steps_ = spec_.params.value("steps", 15);
    checkpoint_every_ = spec_.params.value("checkpoint_every", 5);
    memory_mib_ = spec_.params.value("memory_mib", 8000);
    if (concurrent_ < 1 || total_ < concurrent_ || steps_ < 1 || checkpoint_every_ < 1)
      throw Error("workload " + name() +
                  ": needs jobs >= 1, total >= jobs, steps >= 1, checkpoint_every >= 1");
    while (submitted_ < concurrent_) submit();
  }

  void step() override {
    env_.journal().append(event_kind::kOpInvoke, name(), {{"op", "schedule"}});
    std::vector<clients::GpuJobMove> moves;
    try {
      moves = scheduler_->job_scheduler();
    } catch (const std::exception& e) {
      window_.add(false);
      env_.journal().append(
          event_kind::kOpFail, name(),
          {{"op", "schedule"}, {"reason", "scheduler-error"}, {"error", e.what()}});
      return;
    }
    nlohmann::json moved = nlohmann::json::array();
    for (const auto& m : moves) {
      if (!m.from || !m.to) continue;  // first placements and strandings are in "placement"
      progress_[m.job] = m.resume_from;
      ++moves_;
      moved.push_back({{"job", m.job},
                       {"from", m.from->str()},
                       {"to", m.to->str()},
                       {"resume_from", m.resume_from}});
    }
    nlohmann::json unhealthy = nlohmann::json::array();
    for (const auto& d : scheduler_->devices())
      if (clients::is_hardware_failure(scheduler_->device_health(d))) unhealthy.push_back(d.str());
    window_.add(true);
    env_.journal().append(event_kind::kOpOk, name(),
                          {{"op", "schedule"},
                           {"placement", placement()},
                           {"unhealthy", unhealthy},
                           {"moved", moved}});
    work();
  }

  std::map<std::string, double> metrics() const override {
    double unhealthy = 0, on_unhealthy = 0, running = 0, pending = 0;
    for (const auto& d : scheduler_->devices())
      if (clients::is_hardware_failure(scheduler_->device_health(d))) {
        ++unhealthy;
        on_unhealthy += static_cast<double>(scheduler_->jobs_on(d).size());
      }
    for (const auto& j : scheduler_->jobs()) {
      running += j.state == clients::GpuJobState::running ? 1 : 0;
      pending += j.state == clients::GpuJobState::pending ? 1 : 0;
    }
    return {{"unhealthy_devices", unhealthy},
            {"jobs_on_unhealthy", on_unhealthy},
            {"running", running},
            {"pending", pending},
            {"completed", double(completed_)},
            {"moves", double(moves_)},
            {"error_rate", window_.error_rate()}};
  }

 private:
  nlohmann::json placement() const {
    nlohmann::json p = nlohmann::json::object();
    for (const auto& j : scheduler_->jobs()) {
      if (j.state == clients::GpuJobState::completed) continue;
      p[j.job.id] = j.device ? nlohmann::json(j.device->str()) : nlohmann::json(nullptr);
    }
    return p;
  }

  void submit() {
    const std::string id = "job-" + std::to_string(++submitted_);
    env_.journal().append(event_kind::kOpInvoke, name(), {{"op", "submit"}, {"job", id}});
    const auto where = scheduler_->submit({id, static_cast<std::uint64_t>(memory_mib_)});
    progress_[id] = 0;
    env_.journal().append(event_kind::kOpOk, name(),
                          {{"op", "submit"},
                           {"job", id},
                           {"device", where ? nlohmann::json(where->str()) : nullptr}});
  }

  // One step of work for every running job: checkpoints, completions, the next submissions.
  void work() {
    std::vector<std::string> done;
    for (const auto& j : scheduler_->jobs()) {
      if (j.state != clients::GpuJobState::running) continue;
      auto& p = progress_[j.job.id];
      ++p;
      if (p % static_cast<std::uint64_t>(checkpoint_every_) == 0)
        scheduler_->checkpoint(j.job.id, p);
      if (p >= static_cast<std::uint64_t>(steps_)) done.push_back(j.job.id);
    }
    for (const auto& id : done) {
      const auto j = scheduler_->job(id);
      env_.journal().append(event_kind::kOpInvoke, name(), {{"op", "complete"}, {"job", id}});
      scheduler_->complete(id);
      ++completed_;
      env_.journal().append(
          event_kind::kOpOk, name(),
          {{"op", "complete"},
           {"job", id},
           {"device", j && j->device ? nlohmann::json(j->device->str()) : nullptr},
           {"moves", j ? j->moves : 0}});
      if (submitted_ < total_) submit();
    }
  }

  Environment& env_;
  WorkloadSpec spec_;
  OutcomeWindow window_;
  std::unique_ptr<clients::GpuProbe> probe_;
  std::unique_ptr<clients::GpuScheduler> scheduler_;
  std::map<std::string, std::uint64_t> progress_;
  int concurrent_ = 4, total_ = 6, steps_ = 15, checkpoint_every_ = 5, memory_mib_ = 8000;
  int submitted_ = 0, completed_ = 0, moves_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_gpu_jobs_workload(const WorkloadSpec& spec, Environment& env) {
  return std::make_unique<GpuJobsWorkload>(spec, env);
}

}  // namespace faultline::chaos
