// Dump and load of the fake's catalog as SQL text (CREATE TABLE and INSERT statements).
//
// The dump is plain SQL that the fake and a real PostgreSQL both load, in table-name order, rows
// in scan order; it holds committed data only. Loading runs the statements through the Executor
// against an emptied catalog. Thread safety: as the Catalog's (loop thread only).
#pragma once

#include <string>

#include "fakes/postgres/catalog.h"
#include "fakes/postgres/executor.h"

namespace faultline::pg {

std::string dump_catalog(const Catalog& catalog);
// Replaces the catalog's contents with what `sql` creates. Throws SqlError on the first failing
// statement (the catalog is then left empty).
void load_catalog(ServerContext& server, const std::string& sql);

}  // namespace faultline::pg
