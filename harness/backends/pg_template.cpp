#include "harness/backends/pg_template.h"

#include "harness/core/error.h"

namespace faultline::backends {

std::optional<std::string> pg_unavailable() {
  return testing::pg_unavailable(kPgBinDir);
}

PgOsUser pg_os_user() {
  auto user = testing::find_pg_os_user();
  if (!user) throw Error("no unprivileged OS user to run PostgreSQL as");
  return *user;
}

std::vector<std::string> pg_as_user(const PgOsUser& user, std::vector<std::string> argv) {
  return testing::as_pg_os_user(user, std::move(argv));
}

PgDataDir::PgDataDir(RunDirectory& run, const PgOsUser& user)
    : dir_(run, user, testing::ensure_pg_template(run, user, kPgBinDir)) {}

}  // namespace faultline::backends
