#include "fakes/postgres/testing/real_postgres.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "harness/core/error.h"
#include "harness/core/ports.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/core/unique_fd.h"

namespace faultline::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

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

fs::path setpriv_path() {
  for (const char* p : {"/usr/bin/setpriv", "/bin/setpriv"}) {
    if (fs::exists(p)) return p;
  }
  return {};
}

void chown_tree(const fs::path& root, const PgOsUser& user) {
  if (::geteuid() != 0) return;
  if (::chown(root.c_str(), user.uid, user.gid) != 0) throw Error("chown failed: " + root.string());
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (::lchown(entry.path().c_str(), user.uid, user.gid) != 0) {
      throw Error("chown failed: " + entry.path().string());
    }
  }
}

using Fd = UniqueFd;

[[noreturn]] void fail(const std::string& what, const fs::path& path) {
  throw Error(what + " " + path.string() + ": " + std::strerror(errno));
}

// Copies the directory `from` into the existing directory `to` (both open), file by file: modes
// kept, every entry owned by `owner` as it is made (no second pass), data moved in the kernel.
void copy_tree(int from, int to, const fs::path& where, const std::optional<PgOsUser>& owner) {
  DIR* dir = ::fdopendir(::dup(from));
  if (!dir) fail("cannot read", where);
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, ::closedir);
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      fail("cannot stat", where / name);
    const mode_t mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, name.c_str(), mode) != 0) fail("cannot make", where / name);
      Fd sub_from(::openat(from, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      Fd sub_to(::openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (sub_from.get() < 0 || sub_to.get() < 0) fail("cannot open", where / name);
      if (owner && ::fchown(sub_to.get(), owner->uid, owner->gid) != 0)
        fail("cannot chown", where / name);
      copy_tree(sub_from.get(), sub_to.get(), where / name, owner);
    } else if (S_ISREG(st.st_mode)) {
      Fd in(::openat(from, name.c_str(), O_RDONLY | O_CLOEXEC));
      Fd out(::openat(to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
      if (in.get() < 0 || out.get() < 0) fail("cannot copy", where / name);
      if (owner && ::fchown(out.get(), owner->uid, owner->gid) != 0)
        fail("cannot chown", where / name);
      for (off_t left = st.st_size; left > 0;) {
        const ssize_t n = ::sendfile(out.get(), in.get(), nullptr, static_cast<size_t>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("cannot copy", where / name);
        left -= n;
      }
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      const ssize_t n = ::readlinkat(from, name.c_str(), target.data(), target.size());
      if (n < 0) fail("cannot read link", where / name);
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), to, name.c_str()) != 0) fail("cannot link", where / name);
      if (owner && ::fchownat(to, name.c_str(), owner->uid, owner->gid, AT_SYMLINK_NOFOLLOW) != 0) {
        fail("cannot chown", where / name);
      }
    }  // sockets and fifos (a copied live data directory's) are not data
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

std::optional<PgOsUser> find_pg_os_user(const std::string& requested) {
  std::vector<std::string> candidates;
  if (!requested.empty()) {
    candidates.push_back(requested);
  } else if (const char* env = std::getenv("FAULTLINE_PG_OS_USER"); env && *env) {
    candidates.push_back(env);
  } else {
    candidates = {"postgres", "nobody"};
  }
  for (const std::string& name : candidates) {
    if (const passwd* pw = ::getpwnam(name.c_str())) return PgOsUser{name, pw->pw_uid, pw->pw_gid};
  }
  return std::nullopt;
}

std::vector<std::string> as_pg_os_user(const PgOsUser& user, std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;  // already unprivileged
  std::vector<std::string> out = {setpriv_path().string(), "--reuid=" + std::to_string(user.uid),
                                  "--regid=" + std::to_string(user.gid), "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::optional<std::string> pg_unavailable(const fs::path& bin_dir, const std::string& os_user) {
  for (const char* tool : {"postgres", "initdb"}) {
    if (!fs::exists(bin_dir / tool)) {
      return "PostgreSQL binaries not found: " + (bin_dir / tool).string();
    }
  }
  if (::geteuid() == 0 && setpriv_path().empty()) return "setpriv (util-linux) is missing";
  if (!find_pg_os_user(os_user)) return "no unprivileged OS user to run PostgreSQL as";
  return std::nullopt;
}

fs::path ensure_pg_template(RunDirectory& run, const PgOsUser& user, const fs::path& bin_dir,
                            const fs::path& requested_root) {
  fs::path root = requested_root;
  if (root.empty()) {
    const char* env = std::getenv("FAULTLINE_PG_TEMPLATE_DIR");
    root = env && *env ? fs::path(env) : fs::path("/var/tmp/faultline-pg-template");
  }
  std::string key = bin_dir.string() + "-" + user.name;
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
      run.add_heal_action("remove the template staging directory " + staging.string(),
                          {"rm", "-rf", "--", staging.string(), log.string()});
  std::error_code ec;
  try {
    fs::create_directories(staging);
    chown_tree(staging, user);
    run_supervised(run,
                   as_pg_os_user(user, {(bin_dir / "initdb").string(), "-D", pgdata.string(), "-U",
                                        "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                                        "--no-sync", "--no-instructions"}),
                   log, 120s);
  } catch (...) {
    fs::remove_all(staging, ec);
    fs::remove(log, ec);
    run.heal_done(heal);
    throw;
  }
  fs::remove(log, ec);
  fs::rename(pgdata, dir, ec);  // another process may have won the race: fine
  fs::remove_all(staging, ec);
  run.heal_done(heal);
  if (!fs::exists(dir / "PG_VERSION")) throw Error("could not make the template " + dir.string());
  return dir;
}

fs::path pg_data_root() {
  if (const char* env = std::getenv("FAULTLINE_PG_DATA_DIR"); env && *env) return env;
  // /dev/shm is a tmpfs on Linux: file creation there costs microseconds, not a journal commit.
  if (::access("/dev/shm", W_OK | X_OK) == 0 && fs::is_directory("/dev/shm")) return "/dev/shm";
  return "/tmp";
}

PgDataDirectory::PgDataDirectory(RunDirectory& run, const PgOsUser& user, const fs::path& source)
    : run_(run) {
  path_ = pg_data_root() / ("faultline-pg-" + std::to_string(::getpid()) + "-" + random_suffix());
  // Registered before the directory exists, so a kill at any point still removes it.
  heal_id_ = run.add_heal_action("remove PostgreSQL data directory " + path_.string(),
                                 {"rm", "-rf", "--", path_.string()});
  try {
    Fd from(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (from.get() < 0) fail("cannot open", source);
    if (::mkdir(path_.c_str(), 0700) != 0) fail("cannot make", path_);
    Fd to(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (to.get() < 0) fail("cannot open", path_);
    std::optional<PgOsUser> owner;
    if (::geteuid() == 0) owner = user;
    if (owner && ::fchown(to.get(), owner->uid, owner->gid) != 0) fail("cannot chown", path_);
    copy_tree(from.get(), to.get(), path_, owner);
  } catch (...) {
    remove();
    throw;
  }
}

PgDataDirectory::~PgDataDirectory() {
  remove();
}

void PgDataDirectory::remove() {
  if (removed_) return;
  removed_ = true;
  std::error_code ec;
  fs::remove_all(path_, ec);
  run_.heal_done(heal_id_);
}

struct RealPostgres::Impl {
  RunDirectory* run = nullptr;
  RealPostgresOptions options;
  PgOsUser user;
  std::optional<PgDataDirectory> data;
  std::uint16_t port = 0;
  std::optional<Child> server;

  void start_server() {
    const fs::path log = data->path() / "server.log";
    std::vector<std::string> argv = {(options.bin_dir / "postgres").string(),
                                     "-D",
                                     data->path().string(),
                                     "-p",
                                     std::to_string(port),
                                     "-k",
                                     data->path().string(),
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
                                     "dynamic_shared_memory_type=mmap",
                                     "-c",
                                     "max_connections=" + std::to_string(options.max_connections)};
    for (const std::string& s : options.settings) {
      argv.push_back("-c");
      argv.push_back(s);
    }
    Supervisor supervisor(*run);
    server.emplace(supervisor.spawn(ProcessSpec{as_pg_os_user(user, argv), {}, {}, log, log}));
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
  return pg_unavailable(options.bin_dir, options.os_user);
}

RealPostgres::RealPostgres(RunDirectory& run, RealPostgresOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (auto reason = unavailable(options)) throw Error(*reason);
  impl_->run = &run;
  impl_->options = std::move(options);
  impl_->user = *find_pg_os_user(impl_->options.os_user);
  const fs::path source = impl_->options.data_source.empty()
                              ? ensure_pg_template(run, impl_->user, impl_->options.bin_dir,
                                                   impl_->options.template_dir)
                              : impl_->options.data_source;
  impl_->data.emplace(run, impl_->user, source);
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
  impl_->data.reset();  // removes the directory and forgets its heal action
  impl_->run = nullptr;
}

bool RealPostgres::running() const {
  return impl_->server && impl_->server->running();
}

std::uint16_t RealPostgres::port() const {
  return impl_->port;
}

const fs::path& RealPostgres::data_dir() const {
  return impl_->data->path();
}

std::string RealPostgres::connection_string(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(impl_->port) + " user=postgres dbname=" + database;
}

}  // namespace faultline::testing
