// Executor: evaluates one parsed statement of the fake's SQL subset against the Catalog.
//
// The subset: CREATE TABLE [IF NOT EXISTS], DROP TABLE [IF EXISTS], INSERT ... VALUES
// [ON CONFLICT (pk) DO NOTHING | DO UPDATE] [RETURNING], SELECT (one table or none; column list or
// *; WHERE with comparisons, AND, OR, NOT, IS [NOT] NULL; ORDER BY; LIMIT/OFFSET; count), UPDATE,
// DELETE, BEGIN/COMMIT/ROLLBACK, SET, SHOW, and the functions version(), now(), pg_sleep(),
// current_database(), current_user, plus pg_stat_activity. Everything else raises 0A000 naming
// the construct. Statements run in the session's transaction: its explicit block if one is open,
// else an implicit one the session commits at the end of the Query message or at Sync.
//
// Thread safety: none; one Executor call at a time, on the fake's loop thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/postgres/catalog.h"
#include "fakes/postgres/value.h"

namespace faultline {
class Clock;
}

namespace faultline::pg {

// A row of pg_stat_activity.
struct Activity {
  std::optional<std::string> datname, usename, application_name, state, query;
  int pid = 0;
  std::string backend_type;
};

// What the server tells the executor about the world outside the session.
struct ServerContext {
  Catalog* catalog = nullptr;
  Clock* clock = nullptr;
  bool read_only = false;
  std::string server_version = "15.18 (faultline fake)";
  int max_connections = 100;
  std::function<std::vector<Activity>()> activity;
};

enum class TxnState { idle, in_block, failed };

// The session's SQL state, read and changed by the executor.
struct SessionSql {
  TxnState state = TxnState::idle;
  TxnId txn = 0;          // open transaction (explicit or implicit); 0: none
  bool implicit = false;  // `txn` is implicit: committed at the end of the message / at Sync
  std::string user, database;
  std::map<std::string, std::string> settings;  // lower-case name -> value (SET)
};

struct Notice {
  std::string severity;  // WARNING, NOTICE
  std::string sqlstate;
  std::string message;
};

struct ResultColumn {
  std::string name;
  Type type = Type::text;
};

struct StatementResult {
  bool returns_rows = false;
  std::vector<ResultColumn> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string tag;
  std::vector<Notice> notices;
  // ParameterStatus messages to send (SET of a reported setting).
  std::vector<std::pair<std::string, std::string>> reported;
  // pg_sleep: the result is delivered after this long on the harness clock.
  std::chrono::nanoseconds sleep{0};
};

// Settings a client can SHOW/SET, with their canonical names and defaults.
struct SettingInfo {
  std::string name;
  std::string value;
  bool reported = false;  // sent as ParameterStatus
};
const std::vector<SettingInfo>& known_settings();
// The current value of a setting in a session (its SET value, else the default).
std::string setting_value(const SessionSql& session, const SettingInfo& info);

class Executor {
 public:
  Executor(ServerContext& server, SessionSql& session) : server_(server), session_(session) {}

  // Runs `stmt` ({"SelectStmt": {...}} etc.) with bound `params`. With `describe_only`, computes
  // the result columns and changes nothing (Describe before Execute).
  StatementResult run(const nlohmann::json& stmt, const std::vector<Value>& params,
                      bool describe_only = false);

  // The type of each parameter $1..$n of `stmt`: `declared` where the client gave a type (non-0
  // OID), else inferred from where it is used. Throws 42P18 where it cannot be determined.
  std::vector<Type> parameter_types(const nlohmann::json& stmt,
                                    const std::vector<std::uint32_t>& declared) const;

  // Ends the session's implicit transaction (end of a Query message, or Sync).
  void finish_implicit(bool success);
  // The session's transaction for the next statement, beginning an implicit one if none is open.
  TxnId current_txn();

 private:
  StatementResult transaction(const nlohmann::json& node);
  StatementResult set(const nlohmann::json& node);
  StatementResult show(const nlohmann::json& node);
  StatementResult create_table(const nlohmann::json& node);
  StatementResult drop_table(const nlohmann::json& node);
  StatementResult select(const nlohmann::json& node, const std::vector<Value>& params,
                         bool describe_only);
  StatementResult insert(const nlohmann::json& node, const std::vector<Value>& params,
                         bool describe_only);
  StatementResult update(const nlohmann::json& node, const std::vector<Value>& params,
                         bool describe_only);
  StatementResult remove(const nlohmann::json& node, const std::vector<Value>& params,
                         bool describe_only);
  void check_writable(const std::string& command) const;
  void refuse_ddl_in_block(const std::string& command) const;

  ServerContext& server_;
  SessionSql& session_;
};

}  // namespace faultline::pg
