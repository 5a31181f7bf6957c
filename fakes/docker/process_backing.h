// ProcessBacking: what the Docker fake needs to run containers as real local processes — the
// Supervisor (recorded in the run directory), the folders (one per container, one per named
// volume) and the watching threads of every ContainerProcess it started.
//
// Layout under `root`: containers/<id>/ (the working directory, the run-<n>.out/.err logs, data
// directories of an image without a volume), volumes/<name>/ (a named volume: kept when its
// containers are removed, until the engine goes). The destructor kills every process still
// running, joins the threads and removes `root`.
//
// Thread safety: every member may be called from any thread; spawn() may be called with the
// daemon's lock held (it joins only threads that have finished their callbacks).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "fakes/docker/container_process.h"
#include "fakes/docker/fake_docker.h"

namespace faultline::fakes::docker {

class ProcessBacking {
 public:
  // Throws Error when `options.run` is missing or the root cannot be made.
  explicit ProcessBacking(const ProcessBackingOptions& options);
  ~ProcessBacking();
  ProcessBacking(const ProcessBacking&) = delete;
  ProcessBacking& operator=(const ProcessBacking&) = delete;

  std::optional<LocalImage> resolve(const std::string& image) const;
  std::filesystem::path container_dir(const std::string& id) const;
  std::filesystem::path volume_dir(const std::string& name) const;  // made on first use
  bool volume_exists(const std::string& name) const;
  void remove_volume(const std::string& name);

  std::shared_ptr<ContainerProcess> spawn(
      ProcessSpec spec, ContainerProcess::OnExit on_exit,
      std::optional<std::chrono::nanoseconds> deadline = std::nullopt);

 private:
  ProcessBackingOptions options_;
  std::filesystem::path root_;
  Supervisor supervisor_;
  std::mutex mu_;
  std::vector<std::shared_ptr<ContainerProcess>> processes_;
};

}  // namespace faultline::fakes::docker
