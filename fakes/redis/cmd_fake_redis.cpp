// `faultline fake redis`: runs one Redis fake in the foreground for a person (or a script) to poke
// at with redis-cli and to fault through its HTTP control endpoint. Prints where it listens, one
// line each, then serves until SIGINT or SIGTERM, and stops cleanly.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "fakes/redis/control_http.h"
#include "fakes/redis/server.h"
#include "harness/cli/commands.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/rng.h"

namespace faultline {
namespace {

struct FakeRedisOptions {
  int port = 0;
  std::string unix_path;
  std::string control;
  std::string maxmemory = "0";
  std::string policy = "noeviction";
  int databases = 16;
};

std::pair<std::string, std::uint16_t> parse_host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw UsageError("--control: expected HOST:PORT, e.g. 127.0.0.1:7001, got '" + text + "'");
  }
  const std::string host = text.substr(0, colon);
  const auto port = parse_seed(text.substr(colon + 1));  // a plain unsigned integer
  if (!port || *port > 65535) throw UsageError("--control: bad port in '" + text + "'");
  return {host, static_cast<std::uint16_t>(*port)};
}

void run_fake_redis(const FakeRedisOptions& o) {
  if (o.port < 0 || o.port > 65535) throw UsageError("--port must be 0..65535");
  if (o.databases < 1 || o.databases > 1024) throw UsageError("--databases must be 1..1024");
  const auto maxmemory = parse_seed(o.maxmemory);
  if (!maxmemory) throw UsageError("--maxmemory must be a number of bytes");
  std::optional<std::pair<std::string, std::uint16_t>> control;
  if (!o.control.empty()) control = parse_host_port(o.control);

  // Block the stop signals before any thread starts, so that only sigwait() below takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const SeedChoice seed = choose_seed(cli::global_options().seed);
  RealClock clock;
  EventLoop loop;
  fakes::redis::RedisFakeOptions options;
  options.port = static_cast<std::uint16_t>(o.port);
  options.unix_path = o.unix_path;
  options.maxmemory = *maxmemory;
  options.maxmemory_policy = o.policy;
  options.databases = o.databases;
  options.seed = seed.seed;
  fakes::redis::RedisFake fake(loop, clock, options);
  fake.start();
  std::unique_ptr<fakes::redis::RedisControlEndpoint> endpoint;
  if (control) {
    endpoint = std::make_unique<fakes::redis::RedisControlEndpoint>(loop, fake, control->first,
                                                                    control->second);
    endpoint->start();
  }
  std::printf("seed %llu (%s)\n", static_cast<unsigned long long>(seed.seed), seed.source.c_str());
  std::printf("redis fake listening on %s\n", fake.endpoint().c_str());
  if (endpoint) {
    std::printf("control endpoint http://%s:%u/faults\n", control->first.c_str(),
                static_cast<unsigned>(endpoint->port()));
  }
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (endpoint) endpoint->stop();
  fake.stop();
  std::printf("stopped (%s)\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
}

void add_fake_redis_command(CLI::App& fake) {
  auto o = std::make_shared<FakeRedisOptions>();
  auto* cmd = fake.add_subcommand("redis", "Run the in-process Redis fake until SIGINT/SIGTERM");
  cmd->add_option("--port", o->port, "TCP port on 127.0.0.1 (default 0: an ephemeral port)");
  cmd->add_option("--unix", o->unix_path, "listen on this unix socket instead of TCP");
  cmd->add_option("--control", o->control,
                  "HTTP control endpoint HOST:PORT, loopback only (e.g. 127.0.0.1:7001)");
  cmd->add_option("--maxmemory", o->maxmemory, "maxmemory in bytes (default 0: no limit)");
  cmd->add_option("--maxmemory-policy", o->policy,
                  "noeviction, allkeys-lru, allkeys-random, volatile-lru, volatile-random, "
                  "volatile-ttl");
  cmd->add_option("--databases", o->databases, "number of databases (default 16)");
  cmd->callback([o] { run_fake_redis(*o); });
}

}  // namespace

FAULTLINE_FAKE_COMMAND(10, add_fake_redis_command);

}  // namespace faultline
