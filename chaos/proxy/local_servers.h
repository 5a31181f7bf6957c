// Real servers for the proxy's `local` tests: redis-server and PostgreSQL 15, started by the test
// under a RunDirectory (so its watchdog kills them, and removes their files, even if the test is
// SIGKILLed), each on a free loopback port. PostgreSQL refuses to run as root, so it runs as
// `nobody` through setpriv in a directory handed to that user.
//
// Thread safety: one test thread owns each server.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "chaos/proxy/proxy_test_support.h"
#include "harness/core/error.h"
#include "harness/core/ports.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"

namespace faultline::proxy::testing {

inline bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A directory for a server's files, removed on destruction — and by the run's watchdog if the test
// dies first (registered as a heal action).
class ServerDir {
 public:
  ServerDir(RunDirectory& run, const std::string& what) : run_(run) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("faultline-" + what + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw Error("mkdtemp failed");
    path_ = pattern;
    heal_ = run_.add_heal_action("remove " + path_.string(), {"rm", "-rf", path_.string()});
  }
  ~ServerDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    run_.heal_done(heal_);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  RunDirectory& run_;
  std::filesystem::path path_;
  std::uint64_t heal_ = 0;
};

// Runs a short command to completion (bounded), capturing its standard output.
struct CommandResult {
  ExitStatus status;
  std::string out;
  std::string err;
};
inline CommandResult run_command(RunDirectory& run, const std::filesystem::path& dir,
                                 std::vector<std::string> argv,
                                 std::chrono::milliseconds bound = std::chrono::seconds(60)) {
  static int n = 0;
  const auto out = dir / ("cmd" + std::to_string(++n) + ".out");
  const auto err = dir / ("cmd" + std::to_string(n) + ".err");
  Supervisor sup(run);
  Child child = sup.spawn({std::move(argv), {}, dir, out, err});
  if (!wait_for_exit(child.pid(), bound)) child.terminate();
  CommandResult r;
  r.status = child.wait();
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

class RedisServer {
 public:
  static bool available() { return executable("/usr/bin/redis-server"); }

  explicit RedisServer(RunDirectory& run) : dir_(run, "redis"), port_(pick_free_port()) {
    Supervisor sup(run);
    child_ = sup.spawn({{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no", "--dir", dir_.path().string()},
                        {},
                        dir_.path(),
                        dir_.path() / "redis.log",
                        dir_.path() / "redis.log"});
    ready_ = eventually([&] {
      redisContext* c = redisConnect("127.0.0.1", port_);
      bool ok = false;
      if (c != nullptr && c->err == 0) {
        auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
        ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
        if (r != nullptr) freeReplyObject(r);
      }
      if (c != nullptr) redisFree(c);
      return ok;
    });
  }
  bool ready() const { return ready_; }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  ServerDir dir_;
  std::uint16_t port_;
  std::optional<Child> child_;
  bool ready_ = false;
};

class PostgresServer {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";
  static bool available() {
    return executable(std::string(kBin) + "initdb") && executable(std::string(kBin) + "postgres") &&
           executable("/usr/bin/setpriv");
  }

  explicit PostgresServer(RunDirectory& run) : dir_(run, "postgres"), port_(pick_free_port()) {
    const auto data = dir_.path() / "data";
    if (::chown(dir_.path().c_str(), 65534, 65534) != 0) {
      problem_ = "cannot hand the data directory to nobody";
      return;
    }
    const std::vector<std::string> as_nobody = {"setpriv", "--reuid=65534", "--regid=65534",
                                                "--clear-groups"};
    auto initdb = as_nobody;
    initdb.insert(initdb.end(), {std::string(kBin) + "initdb", "-D", data.string(), "-U",
                                 "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"});
    Supervisor sup(run);
    {
      Child init = sup.spawn(
          {initdb, {}, dir_.path(), dir_.path() / "initdb.log", dir_.path() / "initdb.log"});
      if (!wait_for_exit(init.pid(), std::chrono::seconds(120))) init.terminate();
      if (!init.wait().success()) {
        problem_ = "initdb failed: " + slurp(dir_.path() / "initdb.log");
        return;
      }
    }
    auto postgres = as_nobody;
    postgres.insert(postgres.end(), {std::string(kBin) + "postgres", "-D", data.string(), "-p",
                                     std::to_string(port_), "-k", dir_.path().string(), "-c",
                                     "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                                     // in the data directory: a server killed after the
                                     // terminate grace leaves nothing in /dev/shm
                                     "dynamic_shared_memory_type=mmap"});
    child_ = sup.spawn(
        {postgres, {}, dir_.path(), dir_.path() / "postgres.log", dir_.path() / "postgres.log"});
    const std::string conninfo = this->conninfo(port_);
    if (!eventually([&] { return PQping(conninfo.c_str()) == PQPING_OK; },
                    std::chrono::seconds(60))) {
      problem_ = "postgres did not start: " + slurp(dir_.path() / "postgres.log");
    }
  }
  ~PostgresServer() {
    if (child_) child_->terminate(std::chrono::seconds(10));
  }

  // Empty when running; else why not.
  const std::string& problem() const { return problem_; }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  static std::string conninfo(std::uint16_t port) {
    return "host=127.0.0.1 port=" + std::to_string(port) +
           " user=postgres dbname=postgres connect_timeout=10";
  }

 private:
  ServerDir dir_;
  std::uint16_t port_;
  std::optional<Child> child_;
  std::string problem_;
};

}  // namespace faultline::proxy::testing
