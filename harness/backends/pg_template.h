// PostgreSQL data directories for the local backend: an initdb'd template made once and copied per
// service, owned by an unprivileged OS user because PostgreSQL refuses to run as root.
//
// This follows fakes/postgres/testing/real_postgres.cpp (the test helper): the template is cached
// in $FAULTLINE_PG_TEMPLATE_DIR (default /var/tmp/faultline-pg-template) per binary dir and user;
// the server runs as `postgres` (else `nobody`, or $FAULTLINE_PG_OS_USER) through setpriv when
// the harness is root. A data directory lives in /tmp/faultline-pg-<pid>-<random> (the run
// directory is closed to other users) and is registered as a RunDirectory heal action before it
// is made, so even a SIGKILLed harness has it removed.
//
// Thread safety: the functions are thread-safe; a PgDataDir belongs to one thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/run_dir.h"

namespace faultline::backends {

struct PgOsUser {
  std::string name;
  unsigned uid = 0;
  unsigned gid = 0;
};

inline const std::filesystem::path kPgBinDir = "/usr/lib/postgresql/15/bin";

// Why a local PostgreSQL cannot run here, or nullopt.
std::optional<std::string> pg_unavailable();
// The OS user the server runs as (pg_unavailable() must be nullopt).
PgOsUser pg_os_user();
// argv run as `user` (through setpriv when we are root).
std::vector<std::string> pg_as_user(const PgOsUser& user, std::vector<std::string> argv);

// A data directory copied from the template; removed (and its heal action forgotten) by remove()
// or the destructor.
class PgDataDir {
 public:
  PgDataDir(RunDirectory& run, const PgOsUser& user);
  ~PgDataDir();
  PgDataDir(const PgDataDir&) = delete;
  PgDataDir& operator=(const PgDataDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void remove();

 private:
  RunDirectory& run_;
  std::filesystem::path path_;
  std::uint64_t heal_id_ = 0;
  bool removed_ = false;
};

}  // namespace faultline::backends
