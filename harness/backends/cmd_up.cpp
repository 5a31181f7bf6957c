// `faultline up`: brings a stack up and keeps it healthy in the foreground until SIGINT or
// SIGTERM, then stops it (exit 0). Prints the endpoints as shell exports, writes its state file
// (up_state.h) for `faultline status` and `faultline down`, and with --export-stack an external
// stack file that another run can attach to with `--backend external`.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include <CLI/CLI.hpp>

#include "harness/backends/external_stack.h"
#include "harness/backends/stack_session.h"
#include "harness/backends/up_state.h"
#include "harness/cli/commands.h"
#include "harness/core/error.h"
#include "harness/core/redact.h"
#include "harness/core/rng.h"
#include "harness/core/run_dir.h"

namespace faultline {
namespace {

namespace fs = std::filesystem;

struct UpOptions {
  std::string stack_file;
  std::string compose_file;
  std::string backend;
  std::string export_stack;
  std::string seed;
};

fs::path default_stack() {
  if (const char* dir = std::getenv("FAULTLINE_SOURCE_DIR"); dir && *dir) {
    return fs::path(dir) / "fixtures/stacks/default.yaml";
  }
  return FAULTLINE_DEFAULT_STACK;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void run_up(const UpOptions& o) {
  if (!o.stack_file.empty() && !o.compose_file.empty()) {
    throw UsageError("give --stack or --compose, not both");
  }
  if (!o.backend.empty() && o.backend != "fake" && o.backend != "local" && o.backend != "docker" &&
      o.backend != "external") {
    throw UsageError("--backend must be fake, local, docker or external, not '" + o.backend + "'");
  }
  std::optional<std::uint64_t> seed_flag = cli::global_options().seed;
  if (!o.seed.empty()) {
    seed_flag = parse_seed(o.seed);
    if (!seed_flag) throw UsageError("--seed: '" + o.seed + "' is not a seed");
  }
  const stack::Stack stack = !o.compose_file.empty() ? stack::load_compose(o.compose_file)
                             : !o.stack_file.empty() ? stack::load_stack_file(o.stack_file)
                                                     : stack::load_stack_file(default_stack());
  const SeedChoice seed = choose_seed(seed_flag);

  // The run directory forks its watchdog: before any thread. Then the stop signals are blocked
  // before the event loop's thread starts, so that only sigtimedwait() below takes them.
  RunDirectory run = RunDirectory::create("up");
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  backends::StackSessionOptions options;
  options.backend = o.backend;
  options.seed = seed.seed;
  options.journal_path = run.path() / "journal.jsonl";
  backends::StackSession session(run, stack, options);

  const auto self = ProcessIdentity::of(::getpid());
  nlohmann::json state = {{"pid", ::getpid()},
                          {"pid_start_time", self ? self->start_time : 0},
                          {"stack", stack.name},
                          {"stack_file", stack.file.string()},
                          {"backend", session.backend_name()},
                          {"seed", seed.seed},
                          {"export_stack", o.export_stack},
                          {"run_directory", run.path().string()},
                          {"unavailable", session.unavailable()}};
  auto write_state = [&](const std::vector<stack::ServiceStatus>& statuses) {
    state["updated"] = utc_now();
    state["services"] = nlohmann::json::array();
    for (const auto& st : statuses) {
      state["services"].push_back(backends::to_json(st, session.handle(st.service_name)));
    }
    backends::write_up_state(run.path(), state);
  };

  std::printf("# faultline up: stack '%s' on the %s backend, seed %llu (%s), pid %d\n",
              stack.name.c_str(), session.backend_name().c_str(),
              static_cast<unsigned long long>(seed.seed), seed.source.c_str(), ::getpid());
  for (const auto& [service, why] : session.unavailable()) {
    std::printf("# %s: not started: %s\n", service.c_str(), why.c_str());
  }
  std::fflush(stdout);
  try {
    write_state(session.start());
  } catch (const stack::StartError& e) {
    std::fprintf(stderr, "faultline up: %s\n", redact(e.what()).c_str());
    cli::set_exit_code(1);
    return;
  }
  if (!o.export_stack.empty()) {
    std::ofstream out(o.export_stack, std::ios::trunc);
    out << backends::external_stack_file(session.stack(), session.endpoints(),
                                         session.backend_name());
    if (!out) throw Error("cannot write --export-stack " + o.export_stack);
  }
  for (const auto& [name, value] : session.exports()) {
    std::printf("export %s=%s\n", name.c_str(), shell_quote(value).c_str());
  }
  if (!o.export_stack.empty()) {
    std::printf("export FAULTLINE_STACK_FILE=%s\n", shell_quote(o.export_stack).c_str());
  }
  std::printf("# up; state in %s; stop with Ctrl-C or 'faultline down'\n",
              (run.path() / backends::kUpStateFile).c_str());
  std::fflush(stdout);

  int signal_number = 0;
  for (;;) {
    const timespec second{1, 0};
    signal_number = sigtimedwait(&stop_signals, nullptr, &second);
    if (signal_number == SIGINT || signal_number == SIGTERM) break;
    write_state(session.monitor());
  }
  session.stop();
  std::filesystem::remove(run.path() / backends::kUpStateFile);
  std::printf("# stopped (%s)\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
}

void add_up_command(CLI::App& app) {
  auto o = std::make_shared<UpOptions>();
  auto* cmd = app.add_subcommand(
      "up", "Bring a stack up, print its endpoints as shell exports, keep it healthy until Ctrl-C");
  cmd->add_option("--stack", o->stack_file, "stack file (default: fixtures/stacks/default.yaml)");
  cmd->add_option("--compose", o->compose_file, "docker-compose.yml to read instead");
  cmd->add_option("--backend", o->backend,
                  "fake, local, docker or external (default: local where the machine allows, else "
                  "fake; docker: the engine DOCKER_HOST names)");
  cmd->add_option("--export-stack", o->export_stack,
                  "write an external stack file describing the running endpoints");
  cmd->add_option("--seed", o->seed, "the run seed (as the global --seed)");
  cmd->callback([o] { run_up(*o); });
}

}  // namespace

FAULTLINE_COMMAND(40, add_up_command);

}  // namespace faultline
