// PostgreSQL data directories for the local backend: an initdb'd template made once and copied per
// service, owned by an unprivileged OS user because PostgreSQL refuses to run as root.
//
// One implementation with the tests' RealPostgres: these are the pieces of
// fakes/postgres/testing/real_postgres.h under the backend's names. The template is cached in
// $FAULTLINE_PG_TEMPLATE_DIR (default /var/tmp/faultline-pg-template) per binary dir and user; the
// server runs as `postgres` (else `nobody`, or $FAULTLINE_PG_OS_USER) through setpriv when the
// harness is root. A data directory is <pg_data_root()>/faultline-pg-<pid>-<random> — /dev/shm
// (tmpfs) where there is one, else /tmp; $FAULTLINE_PG_DATA_DIR overrides — copied with its owner
// set as each file is made, and registered as a RunDirectory heal action before it is made, so
// even a SIGKILLed harness has it removed.
//
// Thread safety: the functions are thread-safe; a PgDataDir belongs to one thread.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fakes/postgres/testing/real_postgres.h"
#include "harness/core/run_dir.h"

namespace faultline::backends {

using PgOsUser = testing::PgOsUser;
using testing::pg_data_root;

inline const std::filesystem::path kPgBinDir = testing::kPgDefaultBinDir;

// Why a local PostgreSQL cannot run here, or nullopt.
std::optional<std::string> pg_unavailable();
// The OS user the server runs as (pg_unavailable() must be nullopt).
PgOsUser pg_os_user();
// argv run as `user` (through setpriv when we are root).
std::vector<std::string> pg_as_user(const PgOsUser& user, std::vector<std::string> argv);

// A data directory copied from the template (made first if missing); removed (and its heal action
// forgotten) by remove() or the destructor.
class PgDataDir {
 public:
  PgDataDir(RunDirectory& run, const PgOsUser& user);
  const std::filesystem::path& path() const { return dir_.path(); }
  void remove() { dir_.remove(); }

 private:
  testing::PgDataDirectory dir_;
};

}  // namespace faultline::backends
