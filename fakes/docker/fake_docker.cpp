#include "fakes/docker/fake_docker.h"

#include <mutex>

#include "fakes/docker/api_types.h"
#include "fakes/docker/daemon.h"
#include "fakes/docker/http_server.h"
#include "fakes/docker/router.h"
#include "harness/core/log.h"

namespace faultline::fakes::docker {

using nlohmann::json;

struct FakeDockerEngine::Impl {
  Impl(Clock& clock, FakeDockerOptions o)
      : options(std::move(o)),
        daemon(std::make_shared<DockerDaemon>(clock, options)),
        router(daemon) {}

  FakeDockerOptions options;
  std::shared_ptr<DockerDaemon> daemon;
  Router router;
  std::unique_ptr<HttpServer> server;
  std::optional<std::uint16_t> tcp_port;
  mutable std::mutex mu;
  int fail_status = 0;
  std::string fail_message;

  HttpReply handle(HttpRequest request) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (fail_status != 0) return HttpReply::error(fail_status, fail_message);
    }
    return router.handle(std::move(request));
  }

  // Control calls name containers by id, prefix or name; an unknown one is NotFound.
  template <class F>
  auto control(F&& fn) {
    try {
      return fn();
    } catch (const ApiError& e) {
      if (e.status() == 404) throw NotFound(e.what());
      throw Error(e.what());
    }
  }
};

FakeDockerEngine::FakeDockerEngine(EventLoop& loop, Clock& clock, FakeDockerOptions options) {
  if (options.socket_path.empty() && !options.tcp_port) {
    throw Error("fake docker: give a socket_path, a tcp_port, or both");
  }
  impl_ = std::make_shared<Impl>(clock, std::move(options));
  Impl* impl = impl_.get();
  impl_->server = std::make_unique<HttpServer>(
      loop, [impl](HttpRequest request) { return impl->handle(std::move(request)); });
  if (!impl_->options.socket_path.empty()) impl_->server->listen_unix(impl_->options.socket_path);
  if (impl_->options.tcp_port) {
    impl_->tcp_port = impl_->server->listen_tcp("127.0.0.1", *impl_->options.tcp_port);
  }
  log::info("fake-docker", "listening", {{"docker_host", docker_host()}});
}

FakeDockerEngine::~FakeDockerEngine() {
  impl_->server->stop();
}

std::string FakeDockerEngine::docker_host() const {
  if (!impl_->options.socket_path.empty()) return "unix://" + impl_->options.socket_path;
  return "tcp://127.0.0.1:" + std::to_string(*impl_->tcp_port);
}

const std::string& FakeDockerEngine::socket_path() const {
  return impl_->options.socket_path;
}

std::optional<std::uint16_t> FakeDockerEngine::tcp_port() const {
  return impl_->tcp_port;
}

void FakeDockerEngine::die(const std::string& c, int exit_code) {
  impl_->control([&] { impl_->daemon->die(c, exit_code); });
}

void FakeDockerEngine::oom_kill(const std::string& c) {
  impl_->control([&] { impl_->daemon->oom_kill(c); });
}

void FakeDockerEngine::set_unhealthy(const std::string& c, bool on) {
  impl_->control([&] { impl_->daemon->set_unhealthy(c, on); });
}

void FakeDockerEngine::set_flapping(const std::string& c, int period) {
  impl_->control([&] { impl_->daemon->set_flapping(c, period); });
}

void FakeDockerEngine::set_ignores_sigterm(const std::string& c, bool on) {
  impl_->control([&] { impl_->daemon->set_ignores_sigterm(c, on); });
}

void FakeDockerEngine::pause(const std::string& c) {
  impl_->control([&] { impl_->daemon->pause(c, false); });
}

void FakeDockerEngine::disconnect(const std::string& c, const std::string& network) {
  impl_->control([&] { impl_->daemon->disconnect(network, c, false); });
}

void FakeDockerEngine::append_log(const std::string& c, const std::string& text, int stream) {
  impl_->control([&] { impl_->daemon->append_log(c, text, stream); });
}

void FakeDockerEngine::stall(bool stalled) {
  impl_->server->set_stalled(stalled);
}

void FakeDockerEngine::fail_requests(int status, const std::string& message) {
  if (status < 400 || status > 599) throw Error("fail_requests: status must be 400..599");
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fail_status = status;
  impl_->fail_message = message;
}

void FakeDockerEngine::clear_failures() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fail_status = 0;
}

void FakeDockerEngine::heal_all() {
  clear_failures();
  stall(false);
  impl_->daemon->heal_health_overrides();
}

void FakeDockerEngine::set_capacity(std::int64_t memory_bytes, int cpus) {
  impl_->daemon->set_capacity(memory_bytes, cpus);
}

std::optional<ContainerState> FakeDockerEngine::container(const std::string& ref) const {
  return impl_->daemon->state(ref);
}

std::vector<ContainerState> FakeDockerEngine::containers() const {
  return impl_->daemon->states();
}

json FakeDockerEngine::snapshot() const {
  return {{"containers", impl_->daemon->list(true, {})},
          {"networks", impl_->daemon->list_networks({})},
          {"events", impl_->daemon->event_history(0, impl_->daemon->wall_now_ns(), {})}};
}

std::uint64_t FakeDockerEngine::requests_served() const {
  return impl_->server->requests_served();
}

void FakeDockerEngine::apply_fault(const json& f) {
  if (!f.is_object() || !f.contains("fault") || !f["fault"].is_string()) {
    throw Error("fault: expected {\"fault\": \"<name>\", ...}");
  }
  const std::string name = f["fault"].get<std::string>();
  auto str = [&](const char* key) {
    if (!f.contains(key) || !f[key].is_string()) {
      throw Error("fault " + name + ": \"" + key + "\" (a string) is required");
    }
    return f[key].get<std::string>();
  };
  auto num = [&](const char* key, std::int64_t fallback) -> std::int64_t {
    if (!f.contains(key)) return fallback;
    if (!f[key].is_number_integer())
      throw Error("fault " + name + ": \"" + key + "\" must be an integer");
    return f[key].get<std::int64_t>();
  };
  auto flag = [&](const char* key) {
    if (!f.contains(key)) return true;
    if (!f[key].is_boolean()) throw Error("fault " + name + ": \"" + key + "\" must be a boolean");
    return f[key].get<bool>();
  };
  if (name == "die") return die(str("container"), static_cast<int>(num("exit_code", 1)));
  if (name == "oom_kill") return oom_kill(str("container"));
  if (name == "unhealthy") return set_unhealthy(str("container"), flag("on"));
  if (name == "flapping") return set_flapping(str("container"), static_cast<int>(num("period", 1)));
  if (name == "ignore_sigterm") return set_ignores_sigterm(str("container"), flag("on"));
  if (name == "pause") return pause(str("container"));
  if (name == "disconnect") return disconnect(str("container"), str("network"));
  if (name == "stall") return stall(flag("on"));
  if (name == "http_error") {
    const auto status = num("status", 500);
    return fail_requests(static_cast<int>(status), f.contains("message") && f["message"].is_string()
                                                       ? f["message"].get<std::string>()
                                                       : "fake daemon failure");
  }
  if (name == "capacity") {
    return set_capacity(num("memory_bytes", 16LL << 30), static_cast<int>(num("cpus", 8)));
  }
  if (name == "heal_all") return heal_all();
  throw Error("unknown fault '" + name +
              "' (die, oom_kill, unhealthy, flapping, ignore_sigterm, pause, disconnect, stall, "
              "http_error, capacity, heal_all)");
}

}  // namespace faultline::fakes::docker
