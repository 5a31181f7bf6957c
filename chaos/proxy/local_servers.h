// Real servers for the proxy's `local` tests: redis-server, started by the test under a
// RunDirectory (so its watchdog kills it, and removes its files, even if the test is SIGKILLed) on
// a free loopback port, and a bounded command runner for the real clients. PostgreSQL is
// fakes/postgres/testing/real_postgres.h's RealPostgres.
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

}  // namespace faultline::proxy::testing
