#include "harness/backends/docker/docker_backend.h"

#include <unistd.h>

#include <atomic>

#include "harness/backends/docker/container_plan.h"
#include "harness/backends/docker/docker_backend_impl.h"

namespace faultline::backends {

using clients::DockerApiError;
using clients::DockerClient;
using nlohmann::json;

namespace {

std::string generated_project() {
  static std::atomic<int> counter{0};
  return "faultline-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

}  // namespace

DockerBackend::DockerBackend(DockerBackendOptions options) : impl_(std::make_shared<Impl>()) {
  impl_->project_generated = options.project.empty();
  impl_->project = options.project.empty() ? generated_project() : options.project;
  const auto host = options.docker_host.empty() ? clients::DockerHost::from_environment()
                                                : clients::DockerHost::parse(options.docker_host);
  impl_->client = std::make_unique<DockerClient>(host);
  impl_->options = std::move(options);
}

DockerBackend::~DockerBackend() {
  if (impl_->engine_down) return;  // it never started anything
  auto& client = *impl_->client;
  try {
    // What the Orchestrator did not stop (it normally stops everything first).
    for (const auto& c :
         client.list_containers(true, {{"label", {"faultline.project=" + impl_->project}}})) {
      impl_->remove(c.id);
    }
  } catch (const Error& e) {
    log::warn("docker-backend", "could not list the project's containers", {{"error", e.what()}});
  }
  for (const auto& [name, heal] : impl_->networks) {
    try {
      client.remove_network(name);
      impl_->heal_done(heal);
    } catch (const DockerApiError& e) {
      if (e.status() == 404) impl_->heal_done(heal);
    } catch (const Error& e) {
      log::warn("docker-backend", "could not remove a network",
                {{"network", name}, {"error", e.what()}});
    }
  }
  if (impl_->project_generated) {
    // Nobody can name this project again: its volumes would only be left behind.
    for (const auto& [v, heal] : impl_->volumes) {
      try {
        const auto reply = client.request("DELETE", "/volumes/" + v);
        // 404: gone, or an engine without volumes (the Docker fake) — nothing to remove.
        if (reply.status / 100 == 2 || reply.status == 404) impl_->heal_done(heal);
      } catch (const Error& e) {
        log::warn("docker-backend", "could not remove a volume",
                  {{"volume", v}, {"error", e.what()}});
      }
    }
  }
}

const std::string& DockerBackend::project() const {
  return impl_->project;
}
std::string DockerBackend::container_name(const std::string& service) const {
  return impl_->project + "-" + service;
}
std::string DockerBackend::network_name(const std::string& network) const {
  return impl_->project + "_" + network;
}
clients::DockerClient& DockerBackend::client() {
  return *impl_->client;
}

std::optional<std::string> DockerBackend::unavailable(const stack::Service& s) const {
  using Kind = stack::ServiceKind;
  if (s.kind == Kind::gpu) {
    return "gpu services need NVIDIA device requests, which the docker backend does not send";
  }
  if (s.kind == Kind::docker) {
    return "a Docker engine service (docker-in-docker) needs a privileged container, which the "
           "docker backend does not run";
  }
  if (s.kind == Kind::kafka && std::stoi(s.setting("brokers", "1")) > 1) {
    return "a " + s.setting("brokers") +
           "-broker kafka needs a container per broker; the docker backend runs one";
  }
  if (s.image.empty() && docker::default_image(s.kind).empty()) {
    return "service '" + s.name + "' names no image (compose build: is not supported)";
  }
  std::lock_guard lock(impl_->mu);
  if (!impl_->pinged) {
    impl_->pinged = true;
    try {
      if (!impl_->client->ping()) impl_->engine_down = "it did not answer _ping with OK";
    } catch (const Error& e) {
      impl_->engine_down = e.what();
    }
  }
  if (impl_->engine_down) {
    return "no Docker engine at " + impl_->client->host().str() + ": " + *impl_->engine_down;
  }
  return std::nullopt;
}

std::unique_ptr<stack::ServiceHandle> DockerBackend::start(const stack::Service& s,
                                                           const stack::StartRequest& request) {
  auto& client = *impl_->client;
  auto plan = docker::plan_container(s, impl_->project, impl_->options.engine_restarts,
                                     stack::process_environment());
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& n : plan.networks) {
      if (impl_->networks.count(n)) continue;
      const auto heal = impl_->add_heal("remove docker network " + n, {"network", "rm", n});
      try {
        client.create_network(n, {{"faultline.project", impl_->project}});
      } catch (const DockerApiError& e) {
        if (e.status() != 409) throw;  // 409: it exists already (ours from an earlier start)
      }
      impl_->networks[n] = heal;
    }
    for (const auto& v : plan.volumes) {
      // Fresh data: the volume goes (a persistent service's restart keeps it). The service's old
      // container is removed by now; a volume another container still uses stays (409).
      if (request.fresh_data) client.request("DELETE", "/volumes/" + v);
      if (!impl_->volumes.count(v)) {
        // A generated project's volumes die with it, even when the harness is killed: registered
        // before they exist. A named project's volumes are kept for its next run (no heal).
        impl_->volumes[v] = impl_->project_generated ? impl_->add_heal("remove docker volume " + v,
                                                                       {"volume", "rm", "-f", v})
                                                     : 0;
      }
      // Made here, labelled with the project (the engine would make it unlabelled at create; an
      // existing one is answered as is); an engine without the volumes API (the Docker fake:
      // 404) has none to make.
      client.request("POST", "/volumes/create",
                     json{{"Name", v}, {"Labels", {{"faultline.project", impl_->project}}}}.dump());
    }
  }
  impl_->remove(plan.name);  // a leftover of an earlier start (the name must be free)
  const auto heal =
      impl_->add_heal("remove docker container " + plan.name, {"rm", "-f", plan.name});
  const auto created =
      client.request("POST", "/containers/create?name=" + plan.name, plan.body.dump());
  if (created.status != 201) {
    impl_->heal_done(heal);
    std::string message = created.body;
    try {
      message = json::parse(created.body).value("message", created.body);
    } catch (const json::exception&) {
    }
    // The engine refuses limits beyond the host (CPUs, too little memory) at create.
    if (created.status == 400 && (message.find("CPUs") != std::string::npos ||
                                  message.find("memory") != std::string::npos)) {
      throw stack::ResourceError("docker: " + message);
    }
    throw DockerApiError(created.status, message);
  }
  std::string id;
  try {
    id = json::parse(created.body).at("Id").get<std::string>();
  } catch (const json::exception&) {
    impl_->remove(plan.name);
    impl_->heal_done(heal);
    throw Error("docker: creating " + plan.name + " answered 201 without a container id");
  }
  try {
    for (std::size_t i = 1; i < plan.networks.size(); ++i)
      impl_->connect(plan.networks[i], id, s.name);
    client.start(id);
  } catch (const DockerApiError& e) {
    impl_->remove(id);
    impl_->heal_done(heal);
    // dockerd (and the fake) fail a start that the host cannot fit as a runtime error.
    if (std::string(e.what()).find("insufficient") != std::string::npos) {
      throw stack::ResourceError(std::string("docker: ") + e.daemon_message());
    }
    throw;
  }
  return make_docker_handle(impl_, s, std::move(plan), id, heal);
}

}  // namespace faultline::backends
