#include "fakes/postgres/executor.h"

#include <algorithm>
#include <cctype>

#include "fakes/postgres/expression.h"
#include "fakes/postgres/sql_error.h"

namespace faultline::pg {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Friendly names for the statements people most often try.
std::string statement_name(const std::string& kind) {
  static const std::map<std::string, std::string> kNames = {
      {"IndexStmt", "CREATE INDEX"},
      {"CopyStmt", "COPY"},
      {"ExplainStmt", "EXPLAIN"},
      {"CreateSchemaStmt", "CREATE SCHEMA"},
      {"ViewStmt", "CREATE VIEW"},
      {"CreateSeqStmt", "CREATE SEQUENCE"},
      {"AlterTableStmt", "ALTER TABLE"},
      {"TruncateStmt", "TRUNCATE"},
      {"DiscardStmt", "DISCARD"},
      {"PrepareStmt", "PREPARE"},
      {"ExecuteStmt", "EXECUTE"},
      {"DeallocateStmt", "DEALLOCATE"},
      {"LockStmt", "LOCK"},
      {"CreateTableAsStmt", "CREATE TABLE AS"},
      {"CreateFunctionStmt", "CREATE FUNCTION"},
      {"DoStmt", "DO"},
      {"ListenStmt", "LISTEN"},
      {"NotifyStmt", "NOTIFY"},
      {"VacuumStmt", "VACUUM"},
      {"CreatedbStmt", "CREATE DATABASE"},
      {"CreateRoleStmt", "CREATE ROLE"},
      {"GrantStmt", "GRANT"},
      {"CommentStmt", "COMMENT"},
      {"CallStmt", "CALL"}};
  auto it = kNames.find(kind);
  return it != kNames.end() ? it->second : "statement " + kind;
}

}  // namespace

const std::vector<SettingInfo>& known_settings() {
  static const std::vector<SettingInfo> kSettings = {
      {"application_name", "", true},
      {"client_min_messages", "notice", false},
      {"client_encoding", "UTF8", true},
      {"DateStyle", "ISO, MDY", true},
      {"default_transaction_isolation", "read committed", false},
      {"default_transaction_read_only", "off", true},
      {"in_hot_standby", "off", true},
      {"integer_datetimes", "on", true},
      {"IntervalStyle", "postgres", true},
      {"is_superuser", "on", true},
      {"lc_messages", "C", false},
      {"search_path", "\"$user\", public", false},
      {"server_encoding", "UTF8", true},
      {"server_version", "15.18 (faultline fake)", true},
      {"server_version_num", "150018", false},
      {"session_authorization", "", true},
      {"standard_conforming_strings", "on", true},
      {"statement_timeout", "0", false},
      {"lock_timeout", "0", false},
      {"idle_in_transaction_session_timeout", "0", false},
      {"TimeZone", "UTC", true},
      {"transaction_isolation", "read committed", false},
      {"transaction_read_only", "off", false},
      {"extra_float_digits", "1", false},
      {"synchronous_commit", "on", false},
      {"max_connections", "100", false},
  };
  return kSettings;
}

std::string setting_value(const SessionSql& session, const SettingInfo& info) {
  auto it = session.settings.find(lower(info.name));
  if (it != session.settings.end()) return it->second;
  if (info.name == "session_authorization") return session.user;
  return info.value;
}

TxnId Executor::current_txn() {
  if (session_.txn == 0) {
    session_.txn = server_.catalog->begin();
    session_.implicit = true;
  }
  return session_.txn;
}

void Executor::finish_implicit(bool success) {
  if (!session_.implicit || session_.txn == 0) return;
  if (success) {
    server_.catalog->commit(session_.txn);
  } else {
    server_.catalog->rollback(session_.txn);
  }
  session_.txn = 0;
  session_.implicit = false;
}

void Executor::check_writable(const std::string& command) const {
  if (server_.read_only) {
    throw SqlError("25006", "cannot execute " + command + " in a read-only transaction");
  }
}

void Executor::refuse_ddl_in_block(const std::string& command) const {
  if (session_.state != TxnState::idle) {
    throw not_supported(command + " inside a transaction block (DDL is not transactional here)");
  }
}

StatementResult Executor::run(const json& stmt, const std::vector<Value>& params,
                              bool describe_only) {
  const std::string& kind = node_kind(stmt);
  const json& node = node_body(stmt);
  if (session_.state == TxnState::failed && kind != "TransactionStmt") {
    throw SqlError("25P02",
                   "current transaction is aborted, commands ignored until end of transaction "
                   "block");
  }
  if (kind == "SelectStmt") return select(node, params, describe_only);
  if (kind == "InsertStmt") return insert(node, params, describe_only);
  if (kind == "UpdateStmt") return update(node, params, describe_only);
  if (kind == "DeleteStmt") return remove(node, params, describe_only);
  if (describe_only) return StatementResult{};
  if (kind == "TransactionStmt") return transaction(node);
  if (kind == "VariableSetStmt") return set(node);
  if (kind == "VariableShowStmt") return show(node);
  if (kind == "CreateStmt") return create_table(node);
  if (kind == "DropStmt") return drop_table(node);
  throw not_supported(statement_name(kind));
}

StatementResult Executor::transaction(const json& node) {
  const std::string kind = node.value("kind", "");
  StatementResult r;
  Catalog& catalog = *server_.catalog;
  if (kind == "TRANS_STMT_BEGIN" || kind == "TRANS_STMT_START") {
    for (const json& opt : node.value("options", json::array())) {
      const json& d = node_body(opt);
      const std::string name = d.value("defname", "");
      if (name == "transaction_isolation") {
        const std::string level = lower(to_text(eval(d.at("arg"), Scope{})));
        if (level != "read committed") throw not_supported("isolation level " + level);
      } else if (name == "transaction_read_only") {
        throw not_supported("READ ONLY transactions");
      }
    }
    r.tag = kind == "TRANS_STMT_BEGIN" ? "BEGIN" : "START TRANSACTION";
    if (session_.state != TxnState::idle && !session_.implicit) {
      r.notices.push_back({"WARNING", "25001", "there is already a transaction in progress"});
      return r;
    }
    current_txn();
    session_.implicit = false;
    session_.state = TxnState::in_block;
    return r;
  }
  const bool commit = kind == "TRANS_STMT_COMMIT";
  if (commit || kind == "TRANS_STMT_ROLLBACK") {
    r.tag = commit ? "COMMIT" : "ROLLBACK";
    if (session_.state == TxnState::idle) {
      r.notices.push_back({"WARNING", "25P01", "there is no transaction in progress"});
      if (session_.txn != 0 && session_.implicit) {
        // COMMIT/ROLLBACK ends the implicit transaction of a multi-statement message.
        if (commit)
          catalog.commit(session_.txn);
        else
          catalog.rollback(session_.txn);
        session_.txn = 0;
        session_.implicit = false;
      }
      return r;
    }
    if (session_.state == TxnState::failed || !commit) {
      catalog.rollback(session_.txn);
      r.tag = "ROLLBACK";
    } else {
      catalog.commit(session_.txn);
    }
    session_.txn = 0;
    session_.implicit = false;
    session_.state = TxnState::idle;
    return r;
  }
  throw not_supported(kind == "TRANS_STMT_SAVEPOINT" ? "SAVEPOINT" : "transaction command " + kind);
}

StatementResult Executor::set(const json& node) {
  const std::string kind = node.value("kind", "");
  const std::string name = lower(node.value("name", ""));
  StatementResult r;
  r.tag = kind == "VAR_RESET" || kind == "VAR_RESET_ALL" ? "RESET" : "SET";
  if (kind == "VAR_RESET_ALL") {
    session_.settings.clear();
    return r;
  }
  if (kind == "VAR_SET_MULTI") return r;  // SET TRANSACTION / SESSION CHARACTERISTICS: accepted
  const auto& settings = known_settings();
  auto info = std::find_if(settings.begin(), settings.end(),
                           [&](const SettingInfo& s) { return lower(s.name) == name; });
  if (info == settings.end() && name.find('.') == std::string::npos) {
    throw SqlError("42704", "unrecognized configuration parameter \"" + name + "\"");
  }
  if (kind == "VAR_SET_DEFAULT" || kind == "VAR_RESET") {
    session_.settings.erase(name);
  } else if (kind == "VAR_SET_VALUE") {
    std::string value;
    for (const json& arg : node.value("args", json::array())) {
      if (!value.empty()) value += ", ";
      value += to_text(eval(arg, Scope{}));
    }
    if (name == "client_encoding" && lower(value) != "utf8" && lower(value) != "unicode") {
      throw not_supported("client_encoding " + value);
    }
    if (name == "timezone" && lower(value) != "utc") throw not_supported("TimeZone " + value);
    if (name == "client_encoding") value = "UTF8";
    if (name == "timezone") value = "UTC";
    session_.settings[name] = value;
  } else {
    throw not_supported("SET " + kind);
  }
  if (info != settings.end() && info->reported) {
    r.reported.emplace_back(info->name, setting_value(session_, *info));
  }
  return r;
}

StatementResult Executor::show(const json& node) {
  const std::string name = lower(node.value("name", ""));
  const auto& settings = known_settings();
  auto info = std::find_if(settings.begin(), settings.end(),
                           [&](const SettingInfo& s) { return lower(s.name) == name; });
  StatementResult r;
  r.returns_rows = true;
  r.tag = "SHOW";
  if (info != settings.end()) {
    r.columns.push_back({info->name, Type::text});
    std::string value = setting_value(session_, *info);
    if (info->name == "max_connections") value = std::to_string(server_.max_connections);
    if (info->name == "server_version") value = server_.server_version;
    r.rows.push_back({value});
    return r;
  }
  if (auto it = session_.settings.find(name); it != session_.settings.end()) {
    r.columns.push_back({name, Type::text});
    r.rows.push_back({it->second});
    return r;
  }
  if (name == "all") throw not_supported("SHOW ALL");
  throw SqlError("42704", "unrecognized configuration parameter \"" + name + "\"");
}

StatementResult Executor::create_table(const json& node) {
  const json& rel = node.at("relation");
  const std::string name = rel.value("relname", "");
  if (rel.value("relpersistence", "p") != "p") throw not_supported("temporary or unlogged tables");
  if (node.contains("inhRelations") || node.contains("partspec") || node.contains("partbound")) {
    throw not_supported("table inheritance and partitioning");
  }
  if (rel.contains("schemaname") && rel.value("schemaname", "") != "public") {
    throw not_supported("schemas other than public");
  }
  check_writable("CREATE TABLE");
  refuse_ddl_in_block("CREATE TABLE");
  StatementResult r;
  r.tag = "CREATE TABLE";
  if (server_.catalog->table(name)) {
    if (node.value("if_not_exists", false)) {
      r.notices.push_back(
          {"NOTICE", "42P07", "relation \"" + name + "\" already exists, skipping"});
      return r;
    }
    throw SqlError("42P07", "relation \"" + name + "\" already exists");
  }
  TableDef def;
  def.name = name;
  const auto set_primary = [&](std::size_t index, const json& where) {
    if (def.primary_key) {
      throw SqlError("42P16", "multiple primary keys for table \"" + name + "\" are not allowed",
                     node_position(where));
    }
    def.primary_key = index;
  };
  std::vector<json> table_constraints;
  for (const json& elt : node.value("tableElts", json::array())) {
    const std::string& kind = node_kind(elt);
    const json& body = node_body(elt);
    if (kind == "Constraint") {
      table_constraints.push_back(elt);
      continue;
    }
    if (kind != "ColumnDef") throw not_supported("table element " + kind);
    Column c;
    c.name = body.value("colname", "");
    if (def.find(c.name)) {
      throw SqlError("42701", "column \"" + c.name + "\" specified more than once");
    }
    const json& tn = body.at("typeName");
    const std::string type = string_value(tn.at("names").back());
    if (tn.contains("arrayBounds")) throw not_supported("array columns", node_position(elt));
    auto t = type_from_name(type);
    if (!t) throw not_supported("column type " + type, node_position(json{{"x", tn}}));
    c.type = *t;
    if (tn.contains("typmods")) {
      if (c.type != Type::numeric) throw not_supported("type modifiers on " + type);
      const json& mods = tn["typmods"];
      c.numeric_precision = node_body(mods.at(0)).value("ival", json::object()).value("ival", 0);
      c.numeric_scale =
          mods.size() > 1 ? node_body(mods[1]).value("ival", json::object()).value("ival", 0) : 0;
      if (c.numeric_precision < 1 || c.numeric_precision > 1000 || c.numeric_scale < 0 ||
          c.numeric_scale > c.numeric_precision) {
        throw not_supported("numeric(" + std::to_string(c.numeric_precision) + "," +
                            std::to_string(c.numeric_scale) + ")");
      }
    }
    def.columns.push_back(c);
    for (const json& con : body.value("constraints", json::array())) {
      const std::string contype = node_body(con).value("contype", "");
      if (contype == "CONSTR_PRIMARY") {
        set_primary(def.columns.size() - 1, con);
      } else if (contype == "CONSTR_NOTNULL") {
        def.columns.back().not_null = true;
      } else if (contype != "CONSTR_NULL") {
        throw not_supported("column constraint " + contype, node_position(con));
      }
    }
  }
  for (const json& con : table_constraints) {
    const json& body = node_body(con);
    const std::string contype = body.value("contype", "");
    if (contype != "CONSTR_PRIMARY")
      throw not_supported("table constraint " + contype, node_position(con));
    const json& keys = body.value("keys", json::array());
    if (keys.size() != 1) throw not_supported("multi-column primary keys", node_position(con));
    const std::string key = string_value(keys[0]);
    auto index = def.find(key);
    if (!index) {
      throw SqlError("42703", "column \"" + key + "\" named in key does not exist",
                     node_position(con));
    }
    set_primary(*index, con);
  }
  if (def.primary_key) def.columns[*def.primary_key].not_null = true;
  server_.catalog->create_table(std::move(def));
  return r;
}

StatementResult Executor::drop_table(const json& node) {
  if (node.value("removeType", "") != "OBJECT_TABLE") {
    throw not_supported("DROP " + node.value("removeType", std::string("?")).substr(7));
  }
  check_writable("DROP TABLE");
  refuse_ddl_in_block("DROP TABLE");
  StatementResult r;
  r.tag = "DROP TABLE";
  std::vector<std::string> names;
  for (const json& object : node.value("objects", json::array())) {
    const json& items = node_body(object).value("items", json::array());
    if (items.size() > 1 && string_value(items[items.size() - 2]) != "public") {
      throw not_supported("schemas other than public");
    }
    const std::string name = items.empty() ? "" : string_value(items.back());
    if (!server_.catalog->table(name)) {
      if (!node.value("missing_ok", false)) {
        throw SqlError("42P01", "table \"" + name + "\" does not exist");
      }
      r.notices.push_back({"NOTICE", "00000", "table \"" + name + "\" does not exist, skipping"});
      continue;
    }
    names.push_back(name);
  }
  for (const std::string& name : names) server_.catalog->drop_table(name);
  return r;
}

}  // namespace faultline::pg
