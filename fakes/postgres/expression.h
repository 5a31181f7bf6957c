// Expressions of the fake's SQL subset: evaluation of parse-tree nodes against one row.
//
// A Scope names the row being looked at (a table row, or none), the EXCLUDED row of an
// ON CONFLICT DO UPDATE, and the bound parameters. With no row, column references evaluate to
// typed NULLs: that is how the executor learns a result's column types without running anything
// (Describe). Pure functions over their arguments; thread-compatible.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/postgres/catalog.h"
#include "fakes/postgres/executor.h"
#include "fakes/postgres/value.h"

namespace faultline::pg {

struct Scope {
  const TableDef* table = nullptr;  // the table in FROM (or the INSERT/UPDATE target)
  std::string alias;                // the name it is referred to by
  const Row* row = nullptr;         // nullptr: typed NULLs of `table`
  const Row* excluded = nullptr;    // ON CONFLICT DO UPDATE's EXCLUDED row (of `table`)
  const std::vector<Value>* params = nullptr;
  ServerContext* server = nullptr;
  SessionSql* session = nullptr;
  std::chrono::nanoseconds* sleep = nullptr;  // pg_sleep adds its duration here
};

// The node's single key and its body: {"A_Const": {...}} -> ("A_Const", {...}).
const std::string& node_kind(const nlohmann::json& node);
const nlohmann::json& node_body(const nlohmann::json& node);
// The 1-based position of a node's "location" (0 if it has none).
int node_position(const nlohmann::json& node);
// The sval of a {"String": {"sval": ...}} node.
std::string string_value(const nlohmann::json& node);

Value eval(const nlohmann::json& node, const Scope& scope);
// Evaluates a condition (WHERE, ON CONFLICT ... WHERE): true only for a non-null true; 42804 if
// not boolean. `clause` names it in that error ("WHERE").
bool eval_condition(const nlohmann::json& node, const Scope& scope, const char* clause);
// The column name PostgreSQL gives an unnamed select-list expression.
std::string output_name(const nlohmann::json& node);
// True if `node` is a call of count().
bool is_count_call(const nlohmann::json& node);

}  // namespace faultline::pg
