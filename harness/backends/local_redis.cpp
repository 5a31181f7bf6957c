#include "harness/backends/local_redis.h"

#include <signal.h>

#include <fstream>

#include "chaos/netns/network_namespace.h"
#include "harness/backends/hooks.h"
#include "harness/backends/local_process.h"
#include "harness/backends/probes.h"
#include "harness/stack/values.h"

namespace faultline::backends {
namespace {

class LocalRedisHandle final : public stack::ServiceHandle {
 public:
  LocalRedisHandle(std::shared_ptr<LocalProcess> process, const std::string& host, int port,
                   std::filesystem::path log, std::shared_ptr<netns::NetworkNamespace> ns)
      : process_(std::move(process)), log_(std::move(log)), ns_(std::move(ns)) {
    endpoint_.host = host;
    endpoint_.port = port;
    endpoint_.url = "redis://" + host + ":" + std::to_string(port) + "/0";
    endpoint_.exports["REDIS_URL"] = endpoint_.url;
  }
  ~LocalRedisHandle() override { process_->stop(SIGTERM, std::chrono::seconds(5)); }

  const stack::Endpoint& endpoint() const override { return endpoint_; }
  stack::ProbeResult probe() override {
    if (!process_->running()) return {false, "redis-server has exited"};
    return ping_redis(endpoint_.host, endpoint_.port);
  }
  bool running() const override { return process_->running(); }
  std::optional<int> exit_code() const override { return process_->exit_code(); }
  void stop(std::chrono::milliseconds grace) override { process_->stop(SIGTERM, grace); }
  std::set<std::string> hooks() const override { return {hook::kKill, hook::kPause}; }
  std::unique_ptr<stack::HookFault> apply_hook(const std::string& name,
                                               const nlohmann::json& args) override {
    if (name == hook::kKill) return process_->kill();
    if (name == hook::kPause) return process_->pause();
    return ServiceHandle::apply_hook(name, args);
  }
  bool keeps_logs() const override { return true; }  // this start's log: truncated per spawn
  std::vector<std::string> logs() const override {
    std::vector<std::string> lines;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  std::shared_ptr<LocalProcess> process_;
  std::filesystem::path log_;
  stack::Endpoint endpoint_;
  std::shared_ptr<netns::NetworkNamespace> ns_;  // destroyed after the server stopped (~handle)
};

}  // namespace

std::unique_ptr<stack::ServiceHandle> start_local_redis(
    RunDirectory& run, const stack::Service& service, const std::filesystem::path& dir, int port,
    std::shared_ptr<netns::NetworkNamespace> ns) {
  const std::string host = ns ? ns->namespace_address() : "127.0.0.1";
  std::vector<std::string> argv = {"redis-server", "--port", std::to_string(port),
                                   "--bind",       host,     "--dir",
                                   dir.string(),   "--save", ""};
  argv.insert(argv.end(), {"--appendonly", service.persistent ? "yes" : "no"});
  // In a namespace clients come from the host's end of the veth, not loopback; the namespace has
  // no route anywhere else, so protected mode (loopback only without a password) is off there.
  if (ns) argv.insert(argv.end(), {"--protected-mode", "no"});
  if (auto mem = service.setting("maxmemory"); !mem.empty()) {
    argv.insert(argv.end(), {"--maxmemory", std::to_string(stack::parse_size(mem).value_or(0))});
  }
  if (auto policy = service.setting("maxmemory-policy"); !policy.empty()) {
    argv.insert(argv.end(), {"--maxmemory-policy", policy});
  }
  const auto log = dir / "redis.log";
  ProcessSpec spec;
  spec.argv = ns ? ns->exec_argv(argv) : argv;
  spec.cwd = dir;
  spec.stdout_path = log;
  spec.stderr_path = log;
  Supervisor supervisor(run);
  auto process =
      std::make_shared<LocalProcess>(run, supervisor.spawn(spec), "redis '" + service.name + "'");
  return std::make_unique<LocalRedisHandle>(std::move(process), host, port, log, std::move(ns));
}

}  // namespace faultline::backends
