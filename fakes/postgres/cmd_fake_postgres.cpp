// `faultline fake postgres`: runs the PostgreSQL fake on its own, for a person to poke at with
// psql and to fault through its HTTP control endpoint, until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <pthread.h>

#include <CLI/CLI.hpp>

#include "fakes/postgres/control_server.h"
#include "fakes/postgres/postgres_fake.h"
#include "harness/cli/commands.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/rng.h"

namespace faultline {
namespace {

struct FakePostgresOptions {
  std::uint16_t port = 0;
  std::string control;
  std::string auth = "trust";
  std::string user = "postgres";
  std::string password_env;
  int max_connections = 100;
  std::string load;
};

std::pair<std::string, std::uint16_t> split_host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos)
    throw UsageError("--control wants HOST:PORT, got \"" + text + "\"");
  try {
    const unsigned long port = std::stoul(text.substr(colon + 1));
    if (port > 65535) throw std::out_of_range("port");
    return {text.substr(0, colon), static_cast<std::uint16_t>(port)};
  } catch (const std::exception&) {
    throw UsageError("--control wants HOST:PORT, got \"" + text + "\"");
  }
}

void run_fake_postgres(const FakePostgresOptions& o) {
  pg::PostgresFakeOptions options;
  options.port = o.port;
  options.max_connections = o.max_connections;
  options.seed = choose_seed(cli::global_options().seed).seed;
  if (o.auth == "trust") {
    options.auth = pg::AuthMethod::trust;
  } else {
    options.auth = o.auth == "md5" ? pg::AuthMethod::md5 : pg::AuthMethod::password;
    if (o.password_env.empty()) throw UsageError("--auth " + o.auth + " needs --password-env VAR");
    const char* secret = std::getenv(o.password_env.c_str());
    if (!secret) throw UsageError("environment variable " + o.password_env + " is not set");
    options.users[o.user] = secret;
  }
  std::string initial_sql;
  if (!o.load.empty()) {
    std::ifstream in(o.load);
    if (!in) throw InputError(SourceLocation{o.load}, "cannot read the file");
    std::stringstream ss;
    ss << in.rdbuf();
    initial_sql = ss.str();
  }
  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  RealClock clock;
  EventLoop loop;
  pg::PostgresFake fake(loop, clock, options);
  fake.start();
  if (!initial_sql.empty()) {
    try {
      fake.load(initial_sql);
    } catch (const pg::SqlError& e) {
      throw InputError(SourceLocation{o.load}, e.sqlstate + ": " + e.message);
    }
  }
  std::unique_ptr<pg::ControlServer> control;
  if (!o.control.empty()) {
    auto [host, port] = split_host_port(o.control);
    control = std::make_unique<pg::ControlServer>(loop, fake, host, port);
    control->start();
  }
  std::printf("fake postgres listening on 127.0.0.1:%u  (psql -h 127.0.0.1 -p %u -U %s postgres)\n",
              fake.port(), fake.port(), o.user.c_str());
  if (control) std::printf("control endpoint on http://127.0.0.1:%u/status\n", control->port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  std::printf("stopping on signal %d\n", sig);
  if (control) control->stop();
  fake.stop();
  loop.stop();
}

void add_fake_postgres_command(CLI::App& fake) {
  auto o = std::make_shared<FakePostgresOptions>();
  auto* cmd = fake.add_subcommand("postgres", "Run the PostgreSQL 15 wire-protocol fake");
  cmd->add_option("--port", o->port, "TCP port on 127.0.0.1 (0: any free port)");
  cmd->add_option("--control", o->control, "HTTP control endpoint, 127.0.0.1:PORT");
  cmd->add_option("--auth", o->auth, "trust | password | md5")
      ->check(CLI::IsMember({"trust", "password", "md5"}));
  cmd->add_option("--user", o->user, "the role that may log in with a password");
  cmd->add_option("--password-env", o->password_env,
                  "environment variable holding the role's password");
  cmd->add_option("--max-connections", o->max_connections, "sessions before FATAL 53300");
  cmd->add_option("--load", o->load, "SQL file (a dump) to load at start");
  cmd->callback([o] { run_fake_postgres(*o); });
}

}  // namespace

FAULTLINE_FAKE_COMMAND(20, add_fake_postgres_command);

}  // namespace faultline
