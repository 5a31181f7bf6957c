#include "fakes/postgres/dump.h"

#include <cctype>

#include "fakes/postgres/sql_error.h"
#include "fakes/postgres/sql_parse.h"

namespace faultline::pg {

namespace {

std::string identifier(const std::string& name) {
  bool simple =
      !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      simple = false;
  }
  if (simple) return name;
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string literal(const Value& v) {
  if (v.null) return "NULL";
  switch (v.type) {
    case Type::int4:
    case Type::int8:
    case Type::numeric:
      return to_text(v);
    case Type::boolean:
      return v.i ? "true" : "false";
    default:
      break;
  }
  std::string out = "'";
  for (char c : to_text(v)) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string column_type(const Column& c) {
  if (c.type == Type::numeric && c.numeric_precision > 0) {
    return "numeric(" + std::to_string(c.numeric_precision) + "," +
           std::to_string(c.numeric_scale) + ")";
  }
  switch (c.type) {
    case Type::int4:
      return "integer";
    case Type::int8:
      return "bigint";
    case Type::boolean:
      return "boolean";
    case Type::timestamptz:
      return "timestamptz";
    default:
      return type_name(c.type);
  }
}

}  // namespace

std::string dump_catalog(const Catalog& catalog) {
  std::string out = "-- faultline fake postgres dump\n";
  for (const std::string& name : catalog.table_names()) {
    const TableDef& def = *catalog.table(name);
    out += "CREATE TABLE " + identifier(name) + " (";
    for (std::size_t i = 0; i < def.columns.size(); ++i) {
      const Column& c = def.columns[i];
      out += (i ? ", " : "") + identifier(c.name) + " " + column_type(c);
      if (def.primary_key == i) {
        out += " PRIMARY KEY";
      } else if (c.not_null) {
        out += " NOT NULL";
      }
    }
    out += ");\n";
    for (const auto& [id, row] : catalog.scan(0, name)) {
      out += "INSERT INTO " + identifier(name) + " VALUES (";
      for (std::size_t i = 0; i < row.size(); ++i) out += (i ? ", " : "") + literal(row[i]);
      out += ");\n";
    }
  }
  return out;
}

void load_catalog(ServerContext& server, const std::string& sql) {
  server.catalog->clear();
  SessionSql session;
  session.user = "faultline";
  session.database = "postgres";
  ServerContext writable = server;
  writable.read_only = false;
  Executor executor(writable, session);
  try {
    for (const ParsedStatement& st : parse_sql(sql)) {
      executor.run(st.node, {});
      executor.finish_implicit(true);
    }
  } catch (const SqlError&) {
    executor.finish_implicit(false);
    server.catalog->clear();
    throw;
  }
}

}  // namespace faultline::pg
