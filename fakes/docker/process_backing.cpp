// ProcessBacking: the folders, the Supervisor and the watching threads of the process backing.
#include "fakes/docker/process_backing.h"

#include <unistd.h>

#include <atomic>
#include <system_error>

#include "harness/core/error.h"
#include "harness/core/run_dir.h"

namespace faultline::fakes::docker {

namespace {

RunDirectory& required_run(const ProcessBackingOptions& options) {
  if (!options.run) throw Error("fake docker: process_backing needs a RunDirectory (run)");
  return *options.run;
}

std::filesystem::path root_for(const ProcessBackingOptions& options) {
  if (!options.root.empty()) return options.root;
  static std::atomic<int> counter{0};
  return required_run(options).path() /
         ("docker-processes-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
}

}  // namespace

ProcessBacking::ProcessBacking(const ProcessBackingOptions& options)
    : options_(options), root_(root_for(options)), supervisor_(required_run(options)) {
  std::error_code ec;
  std::filesystem::create_directories(root_ / "containers", ec);
  if (!ec) std::filesystem::create_directories(root_ / "volumes", ec);
  if (ec) throw Error("fake docker: cannot make " + root_.string() + ": " + ec.message());
}

ProcessBacking::~ProcessBacking() {
  std::vector<std::shared_ptr<ContainerProcess>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(processes_);
  }
  for (auto& p : all) p->kill_and_join();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::optional<LocalImage> ProcessBacking::resolve(const std::string& image) const {
  return options_.resolve ? options_.resolve(image) : map_local_image(image);
}

std::filesystem::path ProcessBacking::container_dir(const std::string& id) const {
  return root_ / "containers" / id.substr(0, 12);
}

std::filesystem::path ProcessBacking::volume_dir(const std::string& name) const {
  const auto dir = root_ / "volumes" / name;
  std::filesystem::create_directories(dir);
  return dir;
}

bool ProcessBacking::volume_exists(const std::string& name) const {
  return std::filesystem::is_directory(root_ / "volumes" / name);
}

void ProcessBacking::remove_volume(const std::string& name) {
  std::error_code ec;
  std::filesystem::remove_all(root_ / "volumes" / name, ec);
}

std::shared_ptr<ContainerProcess> ProcessBacking::spawn(
    ProcessSpec spec, ContainerProcess::OnExit on_exit,
    std::optional<std::chrono::nanoseconds> deadline) {
  auto process = std::make_shared<ContainerProcess>(supervisor_, std::move(spec),
                                                    std::move(on_exit), deadline);
  std::vector<std::shared_ptr<ContainerProcess>> done;
  {
    std::lock_guard lock(mu_);
    for (auto it = processes_.begin(); it != processes_.end();) {
      if ((*it)->finished()) {
        done.push_back(std::move(*it));
        it = processes_.erase(it);
      } else {
        ++it;
      }
    }
    processes_.push_back(process);
  }
  for (auto& p : done) p->kill_and_join();  // finished: the join is immediate
  return process;
}

}  // namespace faultline::fakes::docker
