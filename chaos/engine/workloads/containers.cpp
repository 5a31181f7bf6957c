// containers: the orchestrator's restart policies over containers on the docker service.
//
// The workload runs its own Orchestrator (harness/stack) over a small stack of generic container
// services — `containers` (default web, worker), each `restart: on-failure:<attempts>` — whose
// backend creates, starts, inspects, stops and removes them through DockerClient on the docker
// service's DOCKER_HOST (the Docker Engine fake on the fake and local backends). Docker's own
// restart policy is "no": every restart is the Orchestrator's (monitor_health: at most `attempts`,
// backoff `backoff_ms` doubling on the harness Clock, then the service is in error). Each step is
// one monitor_health() pass, journaled as an operation with every container's state and restart
// count; the Orchestrator journals its own transitions (service.failed,
// service.restart_scheduled with backoff_ms, service.start with the attempt, service.error) under
// the container's name, which is what the restarts-with-backoff checker reads.
#include "chaos/engine/environment.h"
#include "chaos/engine/workload.h"
#include "harness/clients/docker/docker_client.h"
#include "harness/stack/orchestrator.h"

namespace faultline::chaos {
namespace {

constexpr const char* kLabel = "faultline.chaos.workload";

// One container of the workload's stack, seen through the Engine API.
class ContainerHandle final : public stack::ServiceHandle {
 public:
  ContainerHandle(clients::DockerClient& docker, std::string name)
      : docker_(docker), name_(std::move(name)) {
    endpoint_.url = "docker://" + name_;
  }
  const stack::Endpoint& endpoint() const override { return endpoint_; }
  stack::ProbeResult probe() override {
    try {
      const auto c = docker_.try_inspect(name_);
      if (!c) return {false, "no container " + name_};
      return {c->running,
              c->status + (c->running ? "" : " (" + std::to_string(c->exit_code) + ")")};
    } catch (const std::exception& e) {
      return {false, e.what()};
    }
  }
  // A daemon that does not answer says nothing about the container: not "exited".
  bool running() const override {
    try {
      const auto c = docker_.try_inspect(name_);
      return c && (c->running || c->restarting);
    } catch (const std::exception&) {
      return true;
    }
  }
  std::optional<int> exit_code() const override {
    try {
      const auto c = docker_.try_inspect(name_);
      if (c && !c->running) return c->exit_code;
    } catch (const std::exception&) {
    }
    return std::nullopt;
  }
  // docker stop, then docker rm: nothing is left on the engine once the stack is down.
  void stop(std::chrono::milliseconds grace) override {
    try {
      docker_.stop(name_, static_cast<int>(grace.count() / 1000));
    } catch (const std::exception&) {
      // already stopped, gone, or the daemon is down: the removal below says the rest
    }
    try {
      docker_.remove_container(name_, true);
    } catch (const std::exception&) {
    }
  }

 private:
  clients::DockerClient& docker_;
  std::string name_;
  stack::Endpoint endpoint_;
};

// Generic container services as containers on one Docker engine.
class ContainersOnDocker final : public stack::Backend {
 public:
  ContainersOnDocker(clients::DockerClient& docker, std::string workload)
      : docker_(docker), workload_(std::move(workload)) {}
  std::string name() const override { return "containers-on-docker"; }
  std::optional<std::string> unavailable(const stack::Service& s) const override {
    if (s.kind != stack::ServiceKind::container) return "only generic containers";
    return std::nullopt;
  }
  // A fresh container each start (compose's recreate): the old one is removed first.
  std::unique_ptr<stack::ServiceHandle> start(const stack::Service& s,
                                              const stack::StartRequest&) override {
    if (docker_.try_inspect(s.name)) docker_.remove_container(s.name, true);
    clients::ContainerSpec spec;
    spec.name = s.name;
    spec.image = s.image;
    spec.restart_policy = "no";  // restarts are the Orchestrator's
    spec.labels[kLabel] = workload_;
    docker_.create_container(spec);
    docker_.start(s.name);
    return std::make_unique<ContainerHandle>(docker_, s.name);
  }

 private:
  clients::DockerClient& docker_;
  std::string workload_;
};

class ContainersWorkload final : public Workload {
 public:
  ContainersWorkload(const WorkloadSpec& spec, Environment& env)
      : Workload(spec.name), env_(env), spec_(spec), window_(spec.params.value("window", 5)) {}

  ~ContainersWorkload() override {
    try {
      stop_all();
    } catch (const std::exception&) {
      // the daemon is gone with the environment: nothing of ours is left on it
    }
  }

  void setup() override {
    auto* h = env_.handle(spec_.target);
    if (!h) throw Error("workload " + name() + ": service '" + spec_.target + "' is not running");
    auto it = h->endpoint().exports.find("DOCKER_HOST");
    if (it == h->endpoint().exports.end())
      throw Error("workload " + name() + ": service '" + spec_.target +
                  "' exports no DOCKER_HOST (is it a docker service?)");
    docker_ = std::make_unique<clients::DockerClient>(clients::DockerHost::parse(it->second),
                                                      "1.47", std::chrono::seconds(10));
    const int attempts = spec_.params.value("attempts", 3);
    if (attempts < 1) throw Error("workload " + name() + ": attempts must be at least 1");
    stack_.name = "containers";
    for (const auto& n :
         spec_.params.value("containers", std::vector<std::string>{"web", "worker"})) {
      stack::Service s;
      s.name = n;
      s.kind = stack::ServiceKind::container;
      s.image = spec_.params.value("image", std::string("nginx:1.25"));
      s.restart = {stack::RestartPolicy::Mode::on_failure, attempts};
      stack_.services.push_back(std::move(s));
    }
    backend_ = std::make_unique<ContainersOnDocker>(*docker_, name());
    stack::OrchestratorOptions o;
    o.restart_attempts = attempts;
    o.backoff_base = std::chrono::milliseconds(spec_.params.value("backoff_ms", 1000));
    o.health_timeout = std::chrono::seconds(10);
    o.stop_grace = std::chrono::seconds(1);
    orchestrator_ =
        std::make_unique<stack::Orchestrator>(stack_, *backend_, env_.clock(), &env_.journal(), o);
    env_.driver().run([&] { statuses_ = orchestrator_->start_services(); });
  }

  void step() override {
    env_.journal().append(event_kind::kOpInvoke, name(), {{"op", "monitor"}});
    try {
      env_.driver().run([&] { statuses_ = orchestrator_->monitor_health(); });
    } catch (const std::exception& e) {
      window_.add(false);
      env_.journal().append(event_kind::kOpFail, name(),
                            {{"op", "monitor"}, {"reason", "monitor-error"}, {"error", e.what()}});
      return;
    }
    window_.add(true);
    nlohmann::json services = nlohmann::json::object();
    for (const auto& s : statuses_)
      services[s.service_name] = {{"state", std::string(stack::to_string(s.status))},
                                  {"restarts", s.restarts}};
    env_.journal().append(event_kind::kOpOk, name(), {{"op", "monitor"}, {"services", services}});
  }

  void finish() override { stop_all(); }

  std::map<std::string, double> metrics() const override {
    double running = 0, gave_up = 0, restarts = 0;
    for (const auto& s : statuses_) {
      running += s.status == stack::ServiceStatus::State::running ? 1 : 0;
      gave_up += s.status == stack::ServiceStatus::State::error ? 1 : 0;
      restarts += s.restarts;
    }
    return {{"running", running},
            {"gave_up", gave_up},
            {"restarts", restarts},
            {"error_rate", window_.error_rate()}};
  }

 private:
  void stop_all() {
    if (!orchestrator_) return;
    env_.driver().run([&] { orchestrator_->stop_services(); });
    orchestrator_.reset();
  }

  Environment& env_;
  WorkloadSpec spec_;
  OutcomeWindow window_;
  std::unique_ptr<clients::DockerClient> docker_;
  stack::Stack stack_;
  std::unique_ptr<ContainersOnDocker> backend_;
  std::unique_ptr<stack::Orchestrator> orchestrator_;
  std::vector<stack::ServiceStatus> statuses_;
};

}  // namespace

std::unique_ptr<Workload> make_containers_workload(const WorkloadSpec& spec, Environment& env) {
  return std::make_unique<ContainersWorkload>(spec, env);
}

}  // namespace faultline::chaos
