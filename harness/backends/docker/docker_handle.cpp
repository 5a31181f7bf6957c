// DockerHandle: one service's container as the Orchestrator sees it — endpoint, health from the
// engine, stop, logs and the kill / pause / disconnect hooks (docker_backend.h describes them).
#include <functional>
#include <sstream>

#include "harness/backends/docker/docker_backend_impl.h"
#include "harness/backends/hooks.h"

namespace faultline::backends {

using clients::DockerApiError;
using nlohmann::json;

namespace {

// A hook's fault: heal runs `undo` once (an explicit heal or the destructor).
class OnceHookFault final : public stack::HookFault {
 public:
  explicit OnceHookFault(std::function<void()> undo) : undo_(std::move(undo)) {}
  ~OnceHookFault() override { heal(); }
  void heal() override {
    std::call_once(once_, [this] {
      if (undo_) undo_();
    });
  }

 private:
  std::once_flag once_;
  std::function<void()> undo_;
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The host port the engine published for `container_port`/tcp, or 0.
int published_port(const json& inspect, int container_port) {
  // Whatever the engine sent (null, missing or odd-typed fields) reads as "not published".
  if (!container_port || !inspect.is_object()) return 0;
  const auto settings = inspect.find("NetworkSettings");
  if (settings == inspect.end() || !settings->is_object()) return 0;
  const auto ports = settings->find("Ports");
  const std::string key = std::to_string(container_port) + "/tcp";
  if (ports == settings->end() || !ports->is_object() || !ports->contains(key) ||
      !(*ports)[key].is_array()) {
    return 0;
  }
  for (const auto& b : (*ports)[key]) {
    if (!b.is_object() || !b.contains("HostPort") || !b["HostPort"].is_string()) continue;
    const std::string p = b["HostPort"].get<std::string>();
    const int port = std::atoi(p.c_str());
    if (port > 0 && port <= 65535) return port;
  }
  return 0;
}

class DockerHandle final : public stack::ServiceHandle {
 public:
  DockerHandle(std::shared_ptr<DockerBackend::Impl> impl, const stack::Service& s,
               docker::ContainerPlan plan, std::string id, std::uint64_t heal_id)
      : impl_(std::move(impl)),
        service_(s.name),
        keeps_logs_(impl_->wait_for_logs()),
        plan_(std::move(plan)),
        id_(std::move(id)),
        heal_id_(heal_id) {
    endpoint_.host = "127.0.0.1";
    try {
      endpoint_.port = published_port(impl_->client->inspect(id_).raw, plan_.container_port);
    } catch (const Error&) {
      endpoint_.port = 0;  // the probes will say what is wrong
    }
    if (endpoint_.port == 0) return;
    const std::string port = std::to_string(endpoint_.port);
    if (s.kind == stack::ServiceKind::postgres) {
      const std::string user = s.setting("user", "postgres");
      const std::string db = s.setting("database", user);
      endpoint_.url = "postgresql://" + user + "@127.0.0.1:" + port + "/" + db;
      endpoint_.exports = {{"PGHOST", "127.0.0.1"},
                           {"PGPORT", port},
                           {"PGUSER", user},
                           {"PGDATABASE", db},
                           {"DATABASE_URL", endpoint_.url}};
    } else if (s.kind == stack::ServiceKind::redis) {
      endpoint_.url = "redis://127.0.0.1:" + port + "/0";
      endpoint_.exports = {{"REDIS_URL", endpoint_.url}};
    } else if (s.kind == stack::ServiceKind::kafka) {
      endpoint_.url = "127.0.0.1:" + port;
      endpoint_.exports = {{"KAFKA_BOOTSTRAP", endpoint_.url}};
    } else {
      endpoint_.url = "http://127.0.0.1:" + port + "/";
    }
  }

  const stack::Endpoint& endpoint() const override { return endpoint_; }

  stack::ProbeResult probe() override {
    const auto info = inspect();
    if (!info) return {false, "container " + plan_.name + ": " + error_};
    if (info->paused) return {false, "container paused"};
    if (!info->running) return {false, "container " + info->status};
    if (info->restarting) return {false, "container restarting"};
    if (info->health.empty()) return {true, "container running"};
    return {
        info->health == "healthy",
        "health " + info->health +
            (info->failing_streak ? " (failing streak " + std::to_string(info->failing_streak) + ")"
                                  : "")};
  }

  bool running() const override {
    const auto info = inspect();
    if (!info) return !gone_;  // an engine that does not answer says nothing about the container
    return info->running || (impl_->options.engine_restarts && info->restarting);
  }

  std::optional<int> exit_code() const override {
    const auto info = inspect();
    if (!info || info->running) return std::nullopt;
    return info->exit_code;
  }

  void stop(std::chrono::milliseconds grace) override {
    try {
      impl_->client->stop(id_, static_cast<int>((grace.count() + 999) / 1000));
    } catch (const Error& e) {
      log::warn("docker-backend", "stop failed; removing by force",
                {{"container", plan_.name}, {"error", e.what()}});
    }
    if (impl_->remove(id_)) impl_->heal_done(heal_id_);
  }

  std::set<std::string> hooks() const override {
    return {hook::kKill, hook::kPause, hook::kDisconnect};
  }

  std::unique_ptr<stack::HookFault> apply_hook(const std::string& name,
                                               const nlohmann::json& args) override {
    auto& client = *impl_->client;
    if (name == hook::kKill) {
      client.kill(id_, "SIGKILL");
      return std::make_unique<OnceHookFault>(nullptr);
    }
    if (name == hook::kPause) {
      const auto heal = impl_->add_heal("unpause container " + plan_.name, {"unpause", id_});
      client.pause(id_);
      auto impl = impl_;
      return std::make_unique<OnceHookFault>([impl, heal, id = id_] {
        try {
          impl->client->unpause(id);
        } catch (const DockerApiError&) {
          // Not paused any more (stopped or removed since): nothing to undo.
        }
        impl->heal_done(heal);
      });
    }
    if (name == hook::kDisconnect) {
      std::vector<std::string> cut;
      std::string only;
      if (args.is_object() && args.contains("network")) {
        if (!args["network"].is_string())
          throw UsageError("disconnect: 'network' must be a string");
        only = args["network"].get<std::string>();
      }
      for (const auto& n : plan_.networks) {
        if (!only.empty() && n != only && n != impl_->project + "_" + only) continue;
        client.disconnect(n, id_, /*force=*/true);
        cut.push_back(n);
      }
      if (cut.empty())
        throw UsageError("disconnect: the container is not on network '" + only + "'");
      auto impl = impl_;
      return std::make_unique<OnceHookFault>([impl, cut, id = id_, alias = service_] {
        for (const auto& n : cut) {
          try {
            impl->connect(n, id, alias);  // with the service's name, as it was
          } catch (const DockerApiError&) {
            // The container is gone, or already back on the network.
          }
        }
      });
    }
    return ServiceHandle::apply_hook(name, args);
  }

  std::vector<std::string> logs() const override {
    try {
      return split_lines(impl_->client->logs(id_));
    } catch (const Error&) {
      return {};
    }
  }
  bool keeps_logs() const override { return keeps_logs_; }

 private:
  std::optional<clients::ContainerInfo> inspect() const {
    try {
      auto info = impl_->client->try_inspect(id_);
      gone_ = !info;
      if (!info) error_ = "removed";
      return info;
    } catch (const Error& e) {
      error_ = e.what();
      return std::nullopt;
    }
  }

  std::shared_ptr<DockerBackend::Impl> impl_;
  std::string service_;
  bool keeps_logs_;
  docker::ContainerPlan plan_;
  std::string id_;
  std::uint64_t heal_id_;
  stack::Endpoint endpoint_;
  mutable bool gone_ = false;
  mutable std::string error_;
};

}  // namespace

std::unique_ptr<stack::ServiceHandle> make_docker_handle(std::shared_ptr<DockerBackend::Impl> impl,
                                                         const stack::Service& service,
                                                         docker::ContainerPlan plan, std::string id,
                                                         std::uint64_t heal_id) {
  return std::make_unique<DockerHandle>(std::move(impl), service, std::move(plan), std::move(id),
                                        heal_id);
}

}  // namespace faultline::backends
