// RealPostgres: a real PostgreSQL 15 server started for a test, and stopped without a trace.
//
// The data directory is copied from a template made once by initdb (cached in
// $FAULTLINE_PG_TEMPLATE_DIR, default /var/tmp/faultline-pg-template, per PostgreSQL binary dir and
// OS user) into /tmp/faultline-pg-<...>/, registered as a heal action of the RunDirectory first
// so even a SIGKILLed harness has it removed. As PostgreSQL refuses to run as root, initdb and
// the server run as an unprivileged OS user through setpriv (the `postgres` account when it
// exists, else `nobody`; FAULTLINE_PG_OS_USER overrides). The server listens on 127.0.0.1 at a
// free port and on a unix socket in its data directory, with fsync off, C locale, UTF8,
// TimeZone UTC, trust authentication for the `postgres` role, and is started through a
// Supervisor, so the run's watchdog kills it if the harness dies. Readiness is a bounded poll
// of PQping.
//
// Thread safety: a RealPostgres belongs to one thread; construct it on a thread that lives as
// long as the server should (PR_SET_PDEATHSIG, see supervisor.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace faultline {
class RunDirectory;
}

namespace faultline::testing {

struct RealPostgresOptions {
  std::filesystem::path bin_dir = "/usr/lib/postgresql/15/bin";
  std::string os_user;                 // empty: FAULTLINE_PG_OS_USER, postgres, nobody
  std::filesystem::path template_dir;  // empty: FAULTLINE_PG_TEMPLATE_DIR or the default
  std::vector<std::string> settings;   // extra "name=value" server settings (-c)
  // Non-empty: start from a copy of this data directory (e.g. an unpacked base backup set up for
  // recovery) instead of the initdb template.
  std::filesystem::path data_source;
  int max_connections = 50;
  std::chrono::milliseconds ready_timeout{30000};
};

class RealPostgres {
 public:
  // Why a real server cannot be started here (binaries or setpriv missing, no such OS user), or
  // nullopt if it can. Tests GTEST_SKIP() with this reason.
  static std::optional<std::string> unavailable(const RealPostgresOptions& options = {});

  // Starts the server; throws Error (with the tail of the server log) if it does not come up.
  RealPostgres(RunDirectory& run, RealPostgresOptions options = {});
  ~RealPostgres();  // stop()
  RealPostgres(const RealPostgres&) = delete;
  RealPostgres& operator=(const RealPostgres&) = delete;

  std::uint16_t port() const;
  const std::filesystem::path& data_dir() const;  // also the unix socket directory
  // "host=127.0.0.1 port=N user=postgres dbname=<database>" for libpq.
  std::string connection_string(const std::string& database = "postgres") const;
  // Fast shutdown (SIGINT), waits for exit, removes the data directory. Idempotent.
  void stop();
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::testing
