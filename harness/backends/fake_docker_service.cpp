// The fake backend's docker service: the Docker Engine fake (fakes/docker) on a unix socket in the
// run directory, behind a ServiceHandle whose probe is GET /_ping and whose hooks are the fake's
// container and daemon faults. The local backend runs the same: there is no Docker daemon here.
#include <mutex>
#include <sstream>

#include "fakes/docker/fake_docker.h"
#include "harness/backends/fake_services.h"
#include "harness/backends/hook_fault.h"
#include "harness/backends/hooks.h"
#include "harness/clients/docker/docker_client.h"
#include "harness/core/clock.h"
#include "harness/stack/values.h"

namespace faultline::backends {
namespace {

using fakes::docker::FakeDockerEngine;

// crash-loop: every `every` of clock time, a running container of that name exits with `code`
// (so each start, by whatever restart policy, dies within `every`). Heal stops the loop.
class CrashLoop final : public std::enable_shared_from_this<CrashLoop> {
 public:
  CrashLoop(std::shared_ptr<FakeDockerEngine> engine, Clock& clock, std::string container, int code,
            Duration every)
      : engine_(std::move(engine)),
        clock_(clock),
        container_(std::move(container)),
        code_(code),
        every_(every) {}

  void start() {
    tick();  // a running container dies now, the rest on the clock
  }
  void stop() {
    TimerId id{};
    {
      std::lock_guard lock(mu_);
      active_ = false;
      id = timer_;
    }
    clock_.cancel(id);
  }

 private:
  void tick() {
    {
      std::lock_guard lock(mu_);
      if (!active_) return;
    }
    if (auto c = engine_->container(container_); c && c->status == "running")
      engine_->die(container_, code_);
    std::weak_ptr<CrashLoop> self = weak_from_this();
    std::lock_guard lock(mu_);
    if (!active_) return;
    timer_ = clock_.call_after(every_, [self] {
      if (auto s = self.lock()) s->tick();
    });
  }

  std::shared_ptr<FakeDockerEngine> engine_;
  Clock& clock_;
  std::string container_;
  int code_;
  Duration every_;
  std::mutex mu_;
  bool active_ = true;
  TimerId timer_{};
};

class FakeDockerHandle final : public FakeHandle {
 public:
  FakeDockerHandle(std::shared_ptr<FakeDockerEngine> engine, Clock& clock, std::string note)
      : engine_(std::move(engine)), clock_(clock), note_(std::move(note)) {
    endpoint_.unix_socket = engine_->socket_path();
    endpoint_.url = engine_->docker_host();
    if (const auto port = engine_->tcp_port()) {  // for probes and attaching over TCP
      endpoint_.host = "127.0.0.1";
      endpoint_.port = *port;
    }
    endpoint_.exports["DOCKER_HOST"] = endpoint_.url;
  }

  stack::ProbeResult probe() override {
    if (!serving()) return {false, "the fake has exited"};
    try {
      clients::DockerClient client(clients::DockerHost::parse(endpoint_.url), "1.47",
                                   std::chrono::seconds(5));
      if (!client.ping()) return {false, "GET /_ping did not answer OK"};
      std::ostringstream detail;
      detail << note_ << ": /_ping OK, " << engine_->containers().size() << " containers";
      return {true, detail.str()};
    } catch (const std::exception& e) {
      return {false, std::string("GET /_ping: ") + e.what()};
    }
  }
  // The engine object lives on (a persistent restart reuses it) but answers nothing useful.
  void stop(std::chrono::milliseconds) override {
    engine_->fail_requests(503, "the docker service was stopped");
    mark_stopped();
  }
  std::set<std::string> hooks() const override {
    return {hook::kPause, hook::kContainerCrash, hook::kCrashLoop, hook::kContainerOom,
            hook::kContainerUnhealthy};
  }
  std::unique_ptr<stack::HookFault> apply_hook(const std::string& name,
                                               const nlohmann::json& args) override {
    auto engine = engine_;
    if (name == hook::kPause) {
      engine->stall(true);
      return std::make_unique<CallbackHookFault>([engine] { engine->stall(false); });
    }
    if (name == hook::kContainerCrash) {
      const std::string c = container_arg(name, args);
      engine->die(c, static_cast<int>(hook_int(name, args, "exit_code", 1, 0)));
      return std::make_unique<CallbackHookFault>(nullptr);
    }
    if (name == hook::kContainerOom) {
      const std::string c = container_arg(name, args);
      engine->oom_kill(c);
      return std::make_unique<CallbackHookFault>(nullptr);
    }
    if (name == hook::kContainerUnhealthy) {
      const std::string c = container_arg(name, args);
      engine->set_unhealthy(c, true);
      return std::make_unique<CallbackHookFault>([engine, c] {
        try {
          engine->set_unhealthy(c, false);
        } catch (const fakes::docker::NotFound&) {
          // removed meanwhile: nothing left to heal
        }
      });
    }
    if (name == hook::kCrashLoop) {
      // The container may not exist yet (or be recreated by its orchestrator): no lookup here.
      const std::string c = hook_string(name, args, "container", "");
      if (c.empty()) throw UsageError("hook 'crash-loop' needs {\"container\": name}");
      const int code = static_cast<int>(hook_int(name, args, "exit_code", 1, 0));
      const auto every = std::chrono::milliseconds(hook_int(name, args, "every_ms", 100, 1));
      auto loop = std::make_shared<CrashLoop>(engine, clock_, c, code, every);
      loop->start();
      return std::make_unique<CallbackHookFault>([loop] { loop->stop(); });
    }
    return FakeHandle::apply_hook(name, args);
  }

 private:
  // {"container": name} naming a container the engine has; UsageError otherwise.
  std::string container_arg(const std::string& hook, const nlohmann::json& args) const {
    const std::string c = hook_string(hook, args, "container", "");
    if (c.empty()) throw UsageError("hook '" + hook + "' needs {\"container\": name}");
    if (!engine_->container(c))
      throw UsageError("hook '" + hook + "': the docker service has no container '" + c + "'");
    return c;
  }

  std::shared_ptr<FakeDockerEngine> engine_;
  Clock& clock_;
  std::string note_;
};

}  // namespace

std::shared_ptr<FakeDockerEngine> make_fake_docker(EventLoop& loop, Clock& clock,
                                                   const stack::Service& service,
                                                   const std::filesystem::path& socket,
                                                   std::uint16_t tcp_port) {
  fakes::docker::FakeDockerOptions o;
  if (socket.string().size() >= 100)
    throw Error(service.name + ": the docker socket path " + socket.string() +
                " is too long for a unix socket (set TMPDIR to a shorter directory)");
  o.socket_path = socket.string();
  o.tcp_port = tcp_port;
  if (auto mem = service.setting("memory"); !mem.empty()) {
    const auto bytes = stack::parse_size(mem);
    if (!bytes || *bytes == 0)
      throw Error(service.name + ": settings.memory '" + mem + "' is not a size (e.g. 8g)");
    o.memory_bytes = static_cast<std::int64_t>(*bytes);
  }
  if (auto cpus = service.setting("cpus"); !cpus.empty()) {
    try {
      std::size_t used = 0;
      o.cpus = std::stoi(cpus, &used);
      if (used != cpus.size() || o.cpus < 1) throw Error("");
    } catch (const std::exception&) {
      throw Error(service.name + ": settings.cpus '" + cpus + "' is not a whole number >= 1");
    }
  }
  o.name = "faultline-" + service.name;
  std::filesystem::create_directories(socket.parent_path());
  return std::make_shared<FakeDockerEngine>(loop, clock, o);
}

std::unique_ptr<stack::ServiceHandle> make_fake_docker_handle(
    std::shared_ptr<FakeDockerEngine> engine, Clock& clock, const stack::Service&,
    std::string source_note) {
  return std::make_unique<FakeDockerHandle>(std::move(engine), clock, std::move(source_note));
}

}  // namespace faultline::backends
