#include "fakes/postgres/testing/real_postgres.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "harness/core/error.h"
#include "harness/core/ports.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"

namespace faultline::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct OsUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<OsUser> find_user(const RealPostgresOptions& options) {
  std::vector<std::string> candidates;
  if (!options.os_user.empty()) {
    candidates.push_back(options.os_user);
  } else if (const char* env = std::getenv("FAULTLINE_PG_OS_USER"); env && *env) {
    candidates.push_back(env);
  } else {
    candidates = {"postgres", "nobody"};
  }
  for (const std::string& name : candidates) {
    if (const passwd* pw = ::getpwnam(name.c_str())) return OsUser{name, pw->pw_uid, pw->pw_gid};
  }
  return std::nullopt;
}

fs::path setpriv_path() {
  for (const char* p : {"/usr/bin/setpriv", "/bin/setpriv"}) {
    if (fs::exists(p)) return p;
  }
  return {};
}

std::vector<std::string> as_user(const OsUser& user, std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;  // already unprivileged
  std::vector<std::string> out = {setpriv_path().string(), "--reuid=" + std::to_string(user.uid),
                                  "--regid=" + std::to_string(user.gid), "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string tail_of(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

std::string random_suffix() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

void chown_tree(const fs::path& root, const OsUser& user) {
  if (::geteuid() != 0) return;
  if (::chown(root.c_str(), user.uid, user.gid) != 0) throw Error("chown failed: " + root.string());
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (::lchown(entry.path().c_str(), user.uid, user.gid) != 0) throw Error("chown failed");
  }
}

// Runs a supervised program to completion within `timeout`; throws Error with its log if it fails.
void run_supervised(RunDirectory& run, const std::vector<std::string>& argv, const fs::path& log,
                    std::chrono::milliseconds timeout) {
  Supervisor supervisor(run);
  Child child = supervisor.spawn(ProcessSpec{argv, {}, {}, log, log});
  if (!wait_for_exit(child.pid(), timeout)) {
    child.terminate(500ms);
    throw Error(argv[0] + " timed out; log:\n" + tail_of(log));
  }
  const ExitStatus status = child.wait();
  if (!status.success())
    throw Error(argv.back() + " failed (" + status.str() + "):\n" + tail_of(log));
}

}  // namespace

struct RealPostgres::Impl {
  RunDirectory* run = nullptr;
  RealPostgresOptions options;
  OsUser user;
  fs::path data;
  std::uint64_t heal_id = 0;
  std::uint16_t port = 0;
  std::optional<Child> server;

  fs::path template_root() const {
    if (!options.template_dir.empty()) return options.template_dir;
    if (const char* env = std::getenv("FAULTLINE_PG_TEMPLATE_DIR"); env && *env) return env;
    return "/var/tmp/faultline-pg-template";
  }

  // The initdb'd template for this binary dir and user, made once (atomically, by rename).
  fs::path ensure_template() {
    const fs::path root = template_root();
    std::string key = options.bin_dir.string() + "-" + user.name;
    for (char& c : key) {
      if (c == '/') c = '_';
    }
    const fs::path dir = root / key;
    if (fs::exists(dir / "PG_VERSION")) return dir;
    fs::create_directories(root);
    ::chmod(root.c_str(), 0755);
    const fs::path staging = root / (key + ".tmp-" + random_suffix());
    const fs::path pgdata = staging / "data";
    const fs::path log = root / (key + ".initdb-" + random_suffix() + ".log");
    // Registered before they exist: a harness killed during initdb leaves neither behind.
    const std::uint64_t heal =
        run->add_heal_action("remove the template staging directory " + staging.string(),
                             {"rm", "-rf", "--", staging.string(), log.string()});
    fs::create_directories(staging);
    chown_tree(staging, user);
    try {
      run_supervised(*run,
                     as_user(user, {(options.bin_dir / "initdb").string(), "-D", pgdata.string(),
                                    "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                                    "--no-sync", "--no-instructions"}),
                     log, 120s);
    } catch (...) {
      std::error_code ec;
      fs::remove_all(staging, ec);
      fs::remove(log, ec);
      run->heal_done(heal);
      throw;
    }
    std::error_code ec;
    fs::remove(log, ec);
    fs::rename(pgdata, dir, ec);  // another process may have won the race: fine
    fs::remove_all(staging, ec);
    run->heal_done(heal);
    if (!fs::exists(dir / "PG_VERSION")) throw Error("could not make the template " + dir.string());
    return dir;
  }

  void start_server() {
    const fs::path log = data / "server.log";
    std::vector<std::string> argv = {(options.bin_dir / "postgres").string(),
                                     "-D",
                                     data.string(),
                                     "-p",
                                     std::to_string(port),
                                     "-k",
                                     data.string(),
                                     "-c",
                                     "listen_addresses=127.0.0.1",
                                     "-c",
                                     "fsync=off",
                                     "-c",
                                     "synchronous_commit=off",
                                     "-c",
                                     "full_page_writes=off",
                                     "-c",
                                     "timezone=UTC",
                                     "-c",
                                     "max_connections=" + std::to_string(options.max_connections)};
    for (const std::string& s : options.settings) {
      argv.push_back("-c");
      argv.push_back(s);
    }
    Supervisor supervisor(*run);
    server.emplace(supervisor.spawn(ProcessSpec{as_user(user, argv), {}, {}, log, log}));
    const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port) +
                                 " user=postgres dbname=postgres connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) return;
      if (!server->running()) break;
      std::this_thread::sleep_for(20ms);  // polling a condition with a bound, not synchronising
    }
    const std::string why = server->running() ? "did not become ready in time" : "exited";
    server->terminate(1000ms);
    server.reset();
    throw Error("postgres " + why + "; log:\n" + tail_of(log));
  }
};

std::optional<std::string> RealPostgres::unavailable(const RealPostgresOptions& options) {
  for (const char* tool : {"postgres", "initdb"}) {
    if (!fs::exists(options.bin_dir / tool)) {
      return "PostgreSQL binaries not found: " + (options.bin_dir / tool).string();
    }
  }
  if (::geteuid() == 0 && setpriv_path().empty()) return "setpriv (util-linux) is missing";
  if (!find_user(options)) return "no unprivileged OS user to run PostgreSQL as";
  return std::nullopt;
}

RealPostgres::RealPostgres(RunDirectory& run, RealPostgresOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (auto reason = unavailable(options)) throw Error(*reason);
  impl_->run = &run;
  impl_->options = std::move(options);
  impl_->user = *find_user(impl_->options);
  const fs::path template_dir =
      impl_->options.data_source.empty() ? impl_->ensure_template() : impl_->options.data_source;
  impl_->data =
      fs::path("/tmp") / ("faultline-pg-" + std::to_string(::getpid()) + "-" + random_suffix());
  // Registered before the directory exists, so a kill at any point still removes it.
  impl_->heal_id = run.add_heal_action("remove PostgreSQL data directory " + impl_->data.string(),
                                       {"rm", "-rf", "--", impl_->data.string()});
  fs::create_directory(impl_->data);
  fs::copy(template_dir, impl_->data, fs::copy_options::recursive);
  chown_tree(impl_->data, impl_->user);
  ::chmod(impl_->data.c_str(), 0700);
  for (int attempt = 0;; ++attempt) {
    impl_->port = pick_free_port();
    try {
      impl_->start_server();
      return;
    } catch (const Error&) {
      if (attempt == 2) {
        stop();
        throw;
      }
    }
  }
}

RealPostgres::~RealPostgres() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "RealPostgres: %s\n", e.what());
  }
}

void RealPostgres::stop() {
  if (!impl_ || !impl_->run) return;
  if (impl_->server && impl_->server->running()) {
    impl_->server->signal(SIGINT);  // fast shutdown: roll back sessions, checkpoint, exit
    if (!wait_for_exit(impl_->server->pid(), 30000ms)) impl_->server->terminate(1000ms);
    impl_->server->wait();
  }
  impl_->server.reset();
  std::error_code ec;
  fs::remove_all(impl_->data, ec);
  impl_->run->heal_done(impl_->heal_id);
  impl_->run = nullptr;
}

bool RealPostgres::running() const {
  return impl_->server && impl_->server->running();
}

std::uint16_t RealPostgres::port() const {
  return impl_->port;
}

const fs::path& RealPostgres::data_dir() const {
  return impl_->data;
}

std::string RealPostgres::connection_string(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(impl_->port) + " user=postgres dbname=" + database;
}

}  // namespace faultline::testing
