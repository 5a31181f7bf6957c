// SQL parsing through PostgreSQL's own grammar (libpg_query, PostgreSQL 15).
//
// `parse_sql` turns a query string into its statements as JSON parse trees, so a syntax error and
// its position are the ones the real server reports (ERROR 42601 with a 1-based position).
// libpg_query's JSON writer drops the value of negative integer constants (it prints
// {"ival":{}} for -3); `parse_sql` restores them from the query text so the executor never sees a
// wrong literal. Thread-safe (libpg_query keeps its memory context per thread).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace faultline::pg {

struct ParsedStatement {
  nlohmann::json node;  // {"SelectStmt": {...}} etc.
  std::string kind;     // "SelectStmt"
  std::string text;     // the statement's own text, for pattern faults and pg_stat_activity
};

// Throws SqlError 42601 (or 54001 when the parser runs out of stack) on invalid SQL.
std::vector<ParsedStatement> parse_sql(const std::string& sql);

}  // namespace faultline::pg
