#include "harness/backends/pg_template.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "harness/core/error.h"
#include "harness/core/supervisor.h"

namespace faultline::backends {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::optional<PgOsUser> find_user() {
  std::vector<std::string> candidates = {"postgres", "nobody"};
  if (const char* env = std::getenv("FAULTLINE_PG_OS_USER"); env && *env) candidates = {env};
  for (const std::string& name : candidates) {
    if (const passwd* pw = ::getpwnam(name.c_str())) return PgOsUser{name, pw->pw_uid, pw->pw_gid};
  }
  return std::nullopt;
}

fs::path setpriv_path() {
  for (const char* p : {"/usr/bin/setpriv", "/bin/setpriv"}) {
    if (fs::exists(p)) return p;
  }
  return {};
}

std::string random_suffix() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
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

std::string tail_of(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

// The initdb'd template for this user, made once (atomically, by rename).
fs::path ensure_template(RunDirectory& run, const PgOsUser& user) {
  fs::path root = "/var/tmp/faultline-pg-template";
  if (const char* env = std::getenv("FAULTLINE_PG_TEMPLATE_DIR"); env && *env) root = env;
  std::string key = kPgBinDir.string() + "-" + user.name;
  for (char& c : key) {
    if (c == '/') c = '_';
  }
  const fs::path dir = root / key;
  if (fs::exists(dir / "PG_VERSION")) return dir;
  fs::create_directories(root);
  ::chmod(root.c_str(), 0755);
  const fs::path staging = root / (key + ".tmp-" + random_suffix());
  // Registered before it exists: a harness killed during initdb leaves no staging directory.
  const std::uint64_t heal =
      run.add_heal_action("remove the template staging directory " + staging.string(),
                          {"rm", "-rf", "--", staging.string()});
  fs::create_directories(staging);
  std::error_code ec;
  try {
    chown_tree(staging, user);
    const fs::path log = staging / "initdb.log";
    Supervisor supervisor(run);
    Child child = supervisor.spawn(ProcessSpec{
        pg_as_user(user, {(kPgBinDir / "initdb").string(), "-D", (staging / "data").string(), "-U",
                          "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
                          "--no-instructions"}),
        {},
        {},
        log,
        log});
    if (!wait_for_exit(child.pid(), 120s)) child.terminate(500ms);
    const ExitStatus status = child.wait();
    if (!status.success()) throw Error("initdb failed (" + status.str() + "):\n" + tail_of(log));
    fs::rename(staging / "data", dir, ec);  // another process may have won the race: fine
  } catch (...) {
    fs::remove_all(staging, ec);
    run.heal_done(heal);
    throw;
  }
  fs::remove_all(staging, ec);
  run.heal_done(heal);
  if (!fs::exists(dir / "PG_VERSION")) throw Error("could not make the template " + dir.string());
  return dir;
}

}  // namespace

std::optional<std::string> pg_unavailable() {
  for (const char* tool : {"postgres", "initdb"}) {
    if (!fs::exists(kPgBinDir / tool)) {
      return "PostgreSQL 15 is not installed (" + (kPgBinDir / tool).string() + " is missing)";
    }
  }
  if (::geteuid() == 0 && setpriv_path().empty()) return "setpriv (util-linux) is missing";
  if (!find_user()) return "no unprivileged OS user to run PostgreSQL as";
  return std::nullopt;
}

PgOsUser pg_os_user() {
  auto user = find_user();
  if (!user) throw Error("no unprivileged OS user to run PostgreSQL as");
  return *user;
}

std::vector<std::string> pg_as_user(const PgOsUser& user, std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> out = {setpriv_path().string(), "--reuid=" + std::to_string(user.uid),
                                  "--regid=" + std::to_string(user.gid), "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

PgDataDir::PgDataDir(RunDirectory& run, const PgOsUser& user) : run_(run) {
  const fs::path tmpl = ensure_template(run, user);
  path_ = fs::path("/tmp") / ("faultline-pg-" + std::to_string(::getpid()) + "-" + random_suffix());
  // Registered before the directory exists, so a kill at any point still removes it.
  heal_id_ = run.add_heal_action("remove PostgreSQL data directory " + path_.string(),
                                 {"rm", "-rf", "--", path_.string()});
  try {
    fs::create_directory(path_);
    fs::copy(tmpl, path_, fs::copy_options::recursive);
    chown_tree(path_, user);
    ::chmod(path_.c_str(), 0700);
  } catch (...) {
    remove();
    throw;
  }
}

PgDataDir::~PgDataDir() {
  remove();
}

void PgDataDir::remove() {
  if (removed_) return;
  removed_ = true;
  std::error_code ec;
  fs::remove_all(path_, ec);
  run_.heal_done(heal_id_);
}

}  // namespace faultline::backends
