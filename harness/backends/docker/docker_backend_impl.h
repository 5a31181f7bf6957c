// DockerBackend::Impl: what the docker backend and its handles share — the client, the project,
// what the backend made (networks, volumes) and the heal actions that undo it. Internal to
// harness/backends/docker.
//
// Thread safety: `mu` guards the maps and the cached engine state; handles heal from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/backends/docker/container_plan.h"
#include "harness/backends/docker/docker_backend.h"
#include "harness/clients/docker/docker_client.h"
#include "harness/core/log.h"
#include "harness/core/run_dir.h"

namespace faultline::backends {

struct DockerBackend::Impl {
  DockerBackendOptions options;
  std::string project;
  bool project_generated = false;
  std::unique_ptr<clients::DockerClient> client;
  std::mutex mu;  // guards what follows (handles heal from other threads)
  std::map<std::string, std::uint64_t> networks;  // created by us -> heal action id (0: none)
  std::map<std::string, std::uint64_t> volumes;   // named volumes our containers used -> heal id
  std::optional<std::string> engine_down;         // cached ping failure
  bool pinged = false;
  std::optional<bool> log_waits;  // resolved on first use

  bool wait_for_logs() {
    std::lock_guard lock(mu);
    if (!log_waits) {
      log_waits = options.log_waits;
      if (!log_waits) {
        try {
          log_waits = client->info().value("OperatingSystem", "") != "faultline fake docker";
        } catch (const std::exception&) {  // unreachable, or an odd /info: assume a real engine
          log_waits = true;
        }
      }
    }
    return *log_waits;
  }

  std::uint64_t add_heal(const std::string& what, std::vector<std::string> args) {
    if (!options.run) return 0;
    std::vector<std::string> argv;
    if (const auto& socket = client->host().unix_path; !socket.empty()) {
      // An engine whose socket is gone took its containers and networks with it (an in-process
      // fake dying with the harness): nothing is left to remove, and the heal must not fail
      // forever and keep the run directory.
      argv = {"sh", "-c", "[ -S \"$1\" ] || exit 0; shift; exec \"$@\"", "sh", socket};
    }
    for (const std::string& a : {std::string("docker"), std::string("-H"), client->host().str()})
      argv.push_back(a);
    argv.insert(argv.end(), args.begin(), args.end());
    return options.run->add_heal_action(what, argv);
  }
  void heal_done(std::uint64_t id) {
    if (options.run && id) options.run->heal_done(id);
  }
  // Puts `container` on `network` with `alias` (the service's name), so the name resolves there
  // as compose arranges — after a partition's heal too. Throws DockerApiError on refusal.
  void connect(const std::string& network, const std::string& container, const std::string& alias) {
    const nlohmann::json body = {{"Container", container},
                                 {"EndpointConfig", {{"Aliases", nlohmann::json::array({alias})}}}};
    const auto r = client->request("POST", "/networks/" + network + "/connect", body.dump());
    if (r.status / 100 == 2) return;
    std::string message = r.body;
    try {
      message = nlohmann::json::parse(r.body).value("message", r.body);
    } catch (const nlohmann::json::exception&) {
    }
    throw clients::DockerApiError(r.status, message);
  }
  // Removes a container, whatever its state; false if the engine could not be asked.
  bool remove(const std::string& container) {
    try {
      client->remove_container(container, /*force=*/true);
      return true;
    } catch (const clients::DockerApiError& e) {
      return e.status() == 404;
    } catch (const Error& e) {
      log::warn("docker-backend", "could not remove a container",
                {{"container", container}, {"error", e.what()}});
      return false;
    }
  }
};

// The handle of one started container (docker_handle.cpp).
std::unique_ptr<stack::ServiceHandle> make_docker_handle(std::shared_ptr<DockerBackend::Impl> impl,
                                                         const stack::Service& service,
                                                         docker::ContainerPlan plan, std::string id,
                                                         std::uint64_t heal_id);

}  // namespace faultline::backends
