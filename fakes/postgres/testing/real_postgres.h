// RealPostgres: a real PostgreSQL 15 server started for a test, and stopped without a trace.
//
// The data directory is copied from a template made once by initdb (cached in
// $FAULTLINE_PG_TEMPLATE_DIR, default /var/tmp/faultline-pg-template, per PostgreSQL binary dir and
// OS user) into <pg_data_root()>/faultline-pg-<pid>-<random>/ — /dev/shm (a tmpfs) where there
// is one: creating the template's ~1,000 files on a busy ext4 costs 0.2-0.5 s, on tmpfs ~30 ms —
// registered as a heal action of the RunDirectory first so even a SIGKILLed harness has it
// removed. As PostgreSQL refuses to run as root, initdb and
// the server run as an unprivileged OS user through setpriv (the `postgres` account when it
// exists, else `nobody`; FAULTLINE_PG_OS_USER overrides). The server listens on 127.0.0.1 at a
// free port and on a unix socket in its data directory, with fsync off, C locale, UTF8,
// TimeZone UTC, trust authentication for the `postgres` role, dynamic shared memory in the data
// directory (so a killed server leaves no /dev/shm/PostgreSQL.* segment behind), and is started
// through a Supervisor, so the run's watchdog kills it if the harness dies. Readiness is a bounded
// poll of PQping.
//
// The pieces (the OS user, setpriv, the template, the data directory copy) are also what the
// local backend builds its PostgreSQL from (harness/backends/pg_template.h): one implementation.
//
// Thread safety: a RealPostgres belongs to one thread; construct it on a thread that lives as
// long as the server should (PR_SET_PDEATHSIG, see supervisor.h). The free functions are
// thread-safe; a PgDataDirectory belongs to one thread.
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

inline const std::filesystem::path kPgDefaultBinDir = "/usr/lib/postgresql/15/bin";

// The unprivileged OS user PostgreSQL runs as when the harness is root.
struct PgOsUser {
  std::string name;
  unsigned uid = 0;
  unsigned gid = 0;
};

// `requested` if non-empty, else $FAULTLINE_PG_OS_USER, else `postgres`, else `nobody`.
std::optional<PgOsUser> find_pg_os_user(const std::string& requested = "");
// argv run as `user`: through setpriv when we are root, as it is otherwise.
std::vector<std::string> as_pg_os_user(const PgOsUser& user, std::vector<std::string> argv);
// Why PostgreSQL from `bin_dir` cannot run here as that user, or nullopt.
std::optional<std::string> pg_unavailable(const std::filesystem::path& bin_dir = kPgDefaultBinDir,
                                          const std::string& os_user = "");
// The initdb'd template for (bin_dir, user), made once under `root` (empty:
// $FAULTLINE_PG_TEMPLATE_DIR, else /var/tmp/faultline-pg-template) and published by rename, so
// concurrent harnesses share it; owned by `user`. Throws Error with initdb's log on failure.
std::filesystem::path ensure_pg_template(RunDirectory& run, const PgOsUser& user,
                                         const std::filesystem::path& bin_dir = kPgDefaultBinDir,
                                         const std::filesystem::path& root = {});
// Where data directories are made: $FAULTLINE_PG_DATA_DIR if set, else /dev/shm when it is a
// writable directory, else /tmp. Leftover checks look for "faultline-pg-*" here.
std::filesystem::path pg_data_root();

// A fresh data directory <pg_data_root()>/faultline-pg-<pid>-<random>, copied from `source` (a
// template or any data directory) with every file owned by `user` (mode 0700), registered as a
// RunDirectory heal action before it exists; removed by remove() or the destructor.
class PgDataDirectory {
 public:
  PgDataDirectory(RunDirectory& run, const PgOsUser& user, const std::filesystem::path& source);
  ~PgDataDirectory();
  PgDataDirectory(const PgDataDirectory&) = delete;
  PgDataDirectory& operator=(const PgDataDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void remove();

 private:
  RunDirectory& run_;
  std::filesystem::path path_;
  std::uint64_t heal_id_ = 0;
  bool removed_ = false;
};

struct RealPostgresOptions {
  std::filesystem::path bin_dir = kPgDefaultBinDir;
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
