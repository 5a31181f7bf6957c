// `faultline fake docker`: runs the Docker Engine fake in the foreground for a person (or a
// script) to drive with the docker CLI (DOCKER_HOST=unix://<socket>) and to fault through its
// loopback HTTP control endpoint. Prints where it listens, one line each, serves until SIGINT or
// SIGTERM, then stops cleanly and removes its socket.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "fakes/docker/control_routes.h"
#include "fakes/docker/fake_docker.h"
#include "fakes/docker/http_server.h"
#include "harness/cli/commands.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"

namespace faultline {
namespace {

struct FakeDockerCommandOptions {
  std::string socket;
  int control_port = 0;
  bool no_control = false;
  std::string memory = "17179869184";
  int cpus = 8;
  std::string max_api = "1.47";
  std::string min_api = "1.24";
};

void run_fake_docker(const FakeDockerCommandOptions& o) {
  if (o.control_port < 0 || o.control_port > 65535) throw UsageError("--control-port: 0..65535");
  if (o.cpus < 0) throw UsageError("--cpus must be >= 0");
  if (o.memory.empty() || o.memory.find_first_not_of("0123456789") != std::string::npos ||
      o.memory.size() > 18) {
    throw UsageError("--memory must be a number of bytes");
  }
  std::string socket = o.socket;
  if (socket.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    socket = std::string(tmp && *tmp ? tmp : "/tmp") + "/faultline-docker-" +
             std::to_string(::getpid()) + ".sock";
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  RealClock clock;
  EventLoop loop;
  fakes::docker::FakeDockerOptions options;
  options.socket_path = socket;
  options.memory_bytes = std::stoll(o.memory);
  options.cpus = o.cpus;
  options.max_api_version = o.max_api;
  options.min_api_version = o.min_api;
  std::unique_ptr<fakes::docker::FakeDockerEngine> engine;
  try {
    engine = std::make_unique<fakes::docker::FakeDockerEngine>(loop, clock, options);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  std::unique_ptr<fakes::docker::HttpServer> control;
  std::uint16_t control_port = 0;
  if (!o.no_control) {
    auto* e = engine.get();
    control = std::make_unique<fakes::docker::HttpServer>(
        loop, [e](fakes::docker::HttpRequest r) { return fakes::docker::control_request(*e, r); });
    control_port = control->listen_tcp("127.0.0.1", static_cast<std::uint16_t>(o.control_port));
  }
  std::printf("docker fake listening on %s\n", engine->docker_host().c_str());
  std::printf("export DOCKER_HOST=%s\n", engine->docker_host().c_str());
  if (control) {
    std::printf("control endpoint http://127.0.0.1:%u/faults\n",
                static_cast<unsigned>(control_port));
  }
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (control) control->stop();
  engine.reset();
  std::printf("stopped (%s)\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
}

void add_fake_docker_command(CLI::App& fake) {
  auto o = std::make_shared<FakeDockerCommandOptions>();
  auto* cmd = fake.add_subcommand(
      "docker", "Run the Docker Engine API fake on a unix socket until SIGINT/SIGTERM");
  cmd->add_option("--socket", o->socket,
                  "unix socket path (default $TMPDIR/faultline-docker-<pid>.sock)");
  cmd->add_option("--control-port", o->control_port,
                  "control endpoint port on 127.0.0.1 (default 0: ephemeral)");
  cmd->add_flag("--no-control", o->no_control, "do not serve the control endpoint");
  cmd->add_option("--memory", o->memory, "host memory capacity in bytes (default 16 GiB)");
  cmd->add_option("--cpus", o->cpus, "host CPU capacity (default 8)");
  cmd->add_option("--max-api-version", o->max_api, "highest API version served (default 1.47)");
  cmd->add_option("--min-api-version", o->min_api, "lowest API version served (default 1.24)");
  cmd->callback([o] { run_fake_docker(*o); });
}

}  // namespace

FAULTLINE_FAKE_COMMAND(50, add_fake_docker_command);

}  // namespace faultline
