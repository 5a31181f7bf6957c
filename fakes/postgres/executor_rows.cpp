// The row statements of the Executor: SELECT, INSERT, UPDATE, DELETE and parameter typing.
#include <algorithm>
#include <set>

#include "fakes/postgres/executor.h"
#include "fakes/postgres/expression.h"
#include "fakes/postgres/sql_error.h"

namespace faultline::pg {

using nlohmann::json;

namespace {

using TextRow = std::vector<std::optional<std::string>>;

// The output of a target list (SELECT list or RETURNING) over one table.
struct Projection {
  std::vector<ResultColumn> columns;
  std::vector<const json*> exprs;           // nullptr where the item is a column of `*`
  std::vector<std::size_t> star_columns;    // for each nullptr expr, the table column
  std::vector<std::string> explicit_names;  // AS names ("" if none)
};

bool is_star(const json& expr) {
  if (node_kind(expr) != "ColumnRef") return false;
  const json& fields = node_body(expr).at("fields");
  return node_kind(fields.back()) == "A_Star";
}

Projection make_projection(const json& targets, const Scope& scope) {
  Projection p;
  for (const json& target : targets) {
    const json& rt = node_body(target);
    const json& expr = rt.at("val");
    if (is_star(expr)) {
      if (!scope.table) {
        throw SqlError("42601", "SELECT * with no tables specified is not valid",
                       node_position(expr));
      }
      if (scope.table->name == "pg_stat_activity") {
        throw not_supported("SELECT * from pg_stat_activity (name its columns)");
      }
      for (std::size_t i = 0; i < scope.table->columns.size(); ++i) {
        p.exprs.push_back(nullptr);
        p.star_columns.push_back(i);
        p.explicit_names.push_back("");
      }
      continue;
    }
    p.exprs.push_back(&expr);
    p.star_columns.push_back(0);
    p.explicit_names.push_back(rt.value("name", ""));
  }
  // Types: evaluate over a row of typed NULLs.
  Scope typing = scope;
  typing.row = nullptr;
  typing.sleep = nullptr;
  for (std::size_t i = 0; i < p.exprs.size(); ++i) {
    ResultColumn c;
    if (!p.exprs[i]) {
      c = {scope.table->columns[p.star_columns[i]].name,
           scope.table->columns[p.star_columns[i]].type};
    } else if (is_count_call(*p.exprs[i])) {
      c = {"count", Type::int8};
    } else {
      const Value v = eval(*p.exprs[i], typing);
      c.type = v.type == Type::unknown ? Type::text : v.type;
      c.name = output_name(*p.exprs[i]);
    }
    if (!p.explicit_names[i].empty()) c.name = p.explicit_names[i];
    p.columns.push_back(c);
  }
  return p;
}

std::vector<Value> project(const Projection& p, const Scope& scope) {
  std::vector<Value> out;
  for (std::size_t i = 0; i < p.exprs.size(); ++i) {
    if (!p.exprs[i]) {
      out.push_back((*scope.row)[p.star_columns[i]]);
    } else {
      Value v = eval(*p.exprs[i], scope);
      if (v.type == Type::unknown && !v.null) v.type = Type::text;
      out.push_back(std::move(v));
    }
  }
  return out;
}

TextRow to_text_row(const std::vector<Value>& values) {
  TextRow row;
  for (const Value& v : values) {
    row.push_back(v.null ? std::nullopt : std::optional<std::string>(to_text(v)));
  }
  return row;
}

const TableDef& lookup_table(const Catalog& catalog, const json& rel) {
  if (rel.contains("schemaname") && rel.value("schemaname", "") != "public") {
    throw not_supported("schemas other than public", node_position(json{{"x", rel}}));
  }
  const std::string name = rel.value("relname", "");
  const TableDef* def = catalog.table(name);
  if (!def) {
    throw SqlError("42P01", "relation \"" + name + "\" does not exist",
                   node_position(json{{"x", rel}}));
  }
  return *def;
}

std::string alias_of(const json& rel) {
  if (rel.contains("alias")) return rel["alias"].value("aliasname", "");
  return rel.value("relname", "");
}

TableDef activity_table() {
  TableDef t;
  t.name = "pg_stat_activity";
  for (const char* name :
       {"datname", "usename", "application_name", "state", "query", "backend_type"}) {
    t.columns.push_back({name, Type::text});
  }
  t.columns.push_back({"pid", Type::int4});
  return t;
}

Row activity_row(const Activity& a) {
  const auto text = [](const std::optional<std::string>& s) {
    return s ? Value::text(*s) : Value::null_of(Type::text);
  };
  return {text(a.datname),   text(a.usename), text(a.application_name),
          text(a.state),     text(a.query),   Value::text(a.backend_type),
          Value::int4(a.pid)};
}

std::int64_t limit_value(const json& node, const Scope& scope, const char* what,
                         const char* sqlstate) {
  const Value v = eval(node, scope);
  if (v.null) return -1;
  auto n = coerce(v, Type::int8, CastContext::assignment);
  if (!n) throw SqlError("42804", std::string("argument of ") + what + " must be type bigint");
  if (n->i < 0) throw SqlError(sqlstate, std::string(what) + " must not be negative");
  return n->i;
}

Value assign(const Value& v, const Column& c, const json& expr) {
  try {
    auto out = coerce(v, c.type, CastContext::assignment, c.numeric_precision, c.numeric_scale);
    if (!out) {
      SqlError e("42804",
                 "column \"" + c.name + "\" is of type " + type_name(c.type) +
                     " but expression is of type " + type_name(v.type),
                 node_position(expr));
      e.hint = "You will need to rewrite or cast the expression.";
      throw e;
    }
    return *out;
  } catch (SqlError& e) {
    if (e.position == 0) e.position = node_position(expr);
    throw;
  }
}

std::size_t target_column(const TableDef& def, const json& res_target) {
  const json& rt = node_body(res_target);
  if (rt.contains("indirection")) throw not_supported("assignment to a field or subscript");
  const std::string name = rt.value("name", "");
  auto index = def.find(name);
  if (!index) {
    throw SqlError("42703",
                   "column \"" + name + "\" of relation \"" + def.name + "\" does not exist",
                   node_position(res_target));
  }
  return *index;
}

// What INSERT, UPDATE and DELETE share before they touch a row: the target table, a scope over
// it, and the RETURNING projection, which alone decides the result's shape (all Describe needs).
// A clause the fake does not support is refused after the table is found, as before.
struct WriteTarget {
  const TableDef* def = nullptr;
  Scope scope;
  std::optional<Projection> returning;
  StatementResult result;
};

WriteTarget write_target(const json& node, const std::vector<Value>& params, ServerContext& server,
                         SessionSql& session, const char* unsupported_clause = nullptr,
                         const char* unsupported_name = nullptr) {
  WriteTarget w;
  const json& rel = node.at("relation");
  w.def = &lookup_table(*server.catalog, rel);
  if (unsupported_clause && node.contains(unsupported_clause)) {
    throw not_supported(unsupported_name);
  }
  w.scope.table = w.def;
  w.scope.alias = alias_of(rel);
  w.scope.params = &params;
  w.scope.server = &server;
  w.scope.session = &session;
  if (node.contains("returningList")) {
    w.returning = make_projection(node["returningList"], w.scope);
    w.result.returns_rows = true;
    w.result.columns = w.returning->columns;
  }
  return w;
}

}  // namespace

StatementResult Executor::select(const json& node, const std::vector<Value>& params,
                                 bool describe_only) {
  if (node.value("op", "SETOP_NONE") != "SETOP_NONE") throw not_supported("UNION/INTERSECT/EXCEPT");
  static const std::pair<const char*, const char*> kUnsupported[] = {
      {"distinctClause", "DISTINCT"},  {"groupClause", "GROUP BY"},
      {"havingClause", "HAVING"},      {"windowClause", "WINDOW"},
      {"withClause", "WITH"},          {"lockingClause", "FOR UPDATE/SHARE"},
      {"valuesLists", "VALUES lists"}, {"intoClause", "SELECT INTO"}};
  for (const auto& [key, what] : kUnsupported) {
    if (node.contains(key)) throw not_supported(what);
  }
  Scope scope;
  scope.params = &params;
  scope.server = &server_;
  scope.session = &session_;
  TableDef virtual_table;
  std::vector<Row> rows;
  const json from = node.value("fromClause", json::array());
  if (from.size() > 1) throw not_supported("more than one table in FROM (joins)");
  bool from_table = false;
  if (from.size() == 1) {
    const std::string& kind = node_kind(from[0]);
    if (kind != "RangeVar") {
      throw not_supported(kind == "JoinExpr" ? "joins" : "FROM item " + kind,
                          node_position(from[0]));
    }
    const json& rel = node_body(from[0]);
    from_table = true;
    if (rel.value("relname", "") == "pg_stat_activity" &&
        rel.value("schemaname", "pg_catalog") == "pg_catalog") {
      virtual_table = activity_table();
      scope.table = &virtual_table;
      if (!describe_only) {
        for (const Activity& a : server_.activity()) rows.push_back(activity_row(a));
      }
    } else {
      scope.table = &lookup_table(*server_.catalog, rel);
    }
    scope.alias = alias_of(rel);
  }
  static const json kNoTargets = json::array();
  const Projection projection =
      make_projection(node.contains("targetList") ? node["targetList"] : kNoTargets, scope);
  // Type-check WHERE over typed NULLs, so its errors come even when no row is scanned.
  if (node.contains("whereClause")) eval(node["whereClause"], scope);
  StatementResult r;
  r.returns_rows = true;
  r.columns = projection.columns;
  if (describe_only) return r;
  if (from_table && scope.table != &virtual_table) {
    for (auto& [id, row] : server_.catalog->scan(current_txn(), scope.table->name)) {
      rows.push_back(std::move(row));
    }
  }
  if (!from_table) rows.emplace_back();
  std::chrono::nanoseconds sleep{0};
  scope.sleep = &sleep;
  // WHERE
  std::vector<Row> kept;
  for (Row& row : rows) {
    scope.row = &row;
    if (!node.contains("whereClause") || eval_condition(node["whereClause"], scope, "WHERE")) {
      kept.push_back(std::move(row));
    }
  }
  const bool aggregate = std::any_of(projection.exprs.begin(), projection.exprs.end(),
                                     [](const json* e) { return e && is_count_call(*e); });
  std::vector<std::vector<Value>> outputs;
  if (aggregate) {
    std::vector<Value> out;
    for (std::size_t i = 0; i < projection.exprs.size(); ++i) {
      const json* e = projection.exprs[i];
      if (!e || node_kind(*e) == "ColumnRef") {
        const std::string col = e ? output_name(*e) : projection.columns[i].name;
        throw SqlError("42803",
                       "column \"" + scope.alias + "." + col +
                           "\" must appear in the GROUP BY clause or be used in an "
                           "aggregate function",
                       e ? node_position(*e) : 0);
      }
      if (!is_count_call(*e)) {
        Scope constant = scope;
        constant.row = nullptr;
        out.push_back(eval(*e, constant));
        continue;
      }
      const json& call = node_body(*e);
      std::int64_t n = 0;
      if (call.value("agg_star", false)) {
        n = static_cast<std::int64_t>(kept.size());
      } else {
        const json args = call.value("args", json::array());
        if (args.size() != 1 || call.contains("agg_distinct"))
          throw not_supported("this form of count()");
        for (Row& row : kept) {
          scope.row = &row;
          if (!eval(args[0], scope).null) ++n;
        }
      }
      out.push_back(Value::int8(n));
    }
    outputs.push_back(std::move(out));
  } else {
    // Projection plus ORDER BY keys, sorted stably.
    const json sort = node.value("sortClause", json::array());
    std::vector<std::pair<std::vector<Value>, std::vector<Value>>> produced;
    for (Row& row : kept) {
      scope.row = from_table ? &row : nullptr;
      std::vector<Value> out = project(projection, scope);
      std::vector<Value> keys;
      for (const json& s : sort) {
        const json& by = node_body(s).at("node");
        std::optional<std::size_t> output_index;
        if (node_kind(by) == "A_Const" && node_body(by).contains("ival")) {
          const auto k = node_body(by)["ival"].value("ival", 0);
          if (k < 1 || static_cast<std::size_t>(k) > out.size()) {
            throw SqlError("42P10",
                           "ORDER BY position " + std::to_string(k) + " is not in select list",
                           node_position(by));
          }
          output_index = static_cast<std::size_t>(k - 1);
        } else if (node_kind(by) == "ColumnRef" && node_body(by).at("fields").size() == 1) {
          const std::string name = output_name(by);
          for (std::size_t i = 0; i < projection.explicit_names.size(); ++i) {
            if (projection.explicit_names[i] == name) output_index = i;
          }
        }
        keys.push_back(output_index ? out[*output_index] : eval(by, scope));
      }
      produced.emplace_back(std::move(out), std::move(keys));
    }
    std::stable_sort(produced.begin(), produced.end(), [&](const auto& a, const auto& b) {
      for (std::size_t i = 0; i < sort.size(); ++i) {
        const json& s = node_body(sort[i]);
        const bool desc = s.value("sortby_dir", "") == "SORTBY_DESC";
        const std::string nulls = s.value("sortby_nulls", "SORTBY_NULLS_DEFAULT");
        const bool nulls_first =
            nulls == "SORTBY_NULLS_FIRST" || (nulls == "SORTBY_NULLS_DEFAULT" && desc);
        const Value& x = a.second[i];
        const Value& y = b.second[i];
        if (x.null != y.null) return x.null == nulls_first;
        if (x.null) continue;
        const int c = compare(x, y);
        if (c != 0) return desc ? c > 0 : c < 0;
      }
      return false;
    });
    for (auto& p : produced) outputs.push_back(std::move(p.first));
  }
  scope.row = nullptr;
  std::int64_t offset = 0, limit = -1;
  if (node.contains("limitOffset"))
    offset = limit_value(node["limitOffset"], scope, "OFFSET", "2201X");
  if (node.contains("limitCount")) limit = limit_value(node["limitCount"], scope, "LIMIT", "2201W");
  offset = std::max<std::int64_t>(offset, 0);
  for (std::size_t i = static_cast<std::size_t>(offset); i < outputs.size(); ++i) {
    if (limit >= 0 && r.rows.size() >= static_cast<std::size_t>(limit)) break;
    r.rows.push_back(to_text_row(outputs[i]));
  }
  r.sleep = sleep;
  r.tag = "SELECT " + std::to_string(r.rows.size());
  return r;
}

StatementResult Executor::insert(const json& node, const std::vector<Value>& params,
                                 bool describe_only) {
  WriteTarget w = write_target(node, params, server_, session_);
  const TableDef& def = *w.def;
  Scope& scope = w.scope;
  const std::optional<Projection>& returning = w.returning;
  StatementResult& r = w.result;
  if (describe_only) return r;
  check_writable("INSERT");
  std::vector<std::size_t> columns;
  for (const json& c : node.value("cols", json::array())) columns.push_back(target_column(def, c));
  if (!node.contains("cols")) {
    for (std::size_t i = 0; i < def.columns.size(); ++i) columns.push_back(i);
  }
  if (!node.contains("selectStmt")) throw not_supported("INSERT ... DEFAULT VALUES");
  const json& select = node_body(node["selectStmt"]);
  if (!select.contains("valuesLists")) throw not_supported("INSERT ... SELECT");
  const json* conflict = node.contains("onConflictClause") ? &node["onConflictClause"] : nullptr;
  bool do_update = false;
  if (conflict) {
    if (conflict->contains("infer") && (*conflict)["infer"].contains("conname")) {
      throw not_supported("ON CONFLICT ON CONSTRAINT");
    }
    do_update = conflict->value("action", "") == "ONCONFLICT_UPDATE";
    const json elems = conflict->contains("infer")
                           ? (*conflict)["infer"].value("indexElems", json::array())
                           : json::array();
    if (do_update && elems.empty()) {
      SqlError e("42601",
                 "ON CONFLICT DO UPDATE requires inference specification or constraint name",
                 conflict->value("location", -1) + 1);
      e.hint = "For example, ON CONFLICT (column_name).";
      throw e;
    }
    if (!elems.empty() &&
        (!def.primary_key || elems.size() != 1 ||
         node_body(elems[0]).value("name", "") != def.columns[*def.primary_key].name)) {
      throw SqlError("42P10",
                     "there is no unique or exclusion constraint matching the ON CONFLICT "
                     "specification");
    }
  }
  const TxnId txn = current_txn();
  std::size_t count = 0;
  std::vector<Value> touched;
  for (const json& list : select.at("valuesLists")) {
    const json& items = node_body(list).at("items");
    if (items.size() > columns.size()) {
      throw SqlError("42601", "INSERT has more expressions than target columns",
                     node_position(items[columns.size()]));
    }
    if (items.size() < columns.size() && node.contains("cols")) {
      throw SqlError("42601", "INSERT has more target columns than expressions",
                     node_position(node["cols"][items.size()]));
    }
    Row row;
    for (const Column& c : def.columns) row.push_back(Value::null_of(c.type));
    Scope values = scope;
    values.table = nullptr;  // VALUES cannot see the table's columns
    for (std::size_t i = 0; i < items.size(); ++i) {
      row[columns[i]] = assign(eval(items[i], values), def.columns[columns[i]], items[i]);
    }
    Row final_row = row;
    bool wrote = true;
    if (conflict && def.primary_key) {
      const Value& key = row[*def.primary_key];
      auto existing = server_.catalog->find_by_key(txn, def.name, key);
      if (existing) {
        if (!do_update) {
          wrote = false;
        } else {
          for (const Value& k : touched) {
            if (compare(k, key) == 0) {
              SqlError e("21000", "ON CONFLICT DO UPDATE command cannot affect row a second time");
              e.hint =
                  "Ensure that no rows proposed for insertion within the same command have "
                  "duplicate constrained values.";
              throw e;
            }
          }
          Scope upd = scope;
          upd.row = &existing->second;
          upd.excluded = &row;
          if (conflict->contains("whereClause") &&
              !eval_condition((*conflict)["whereClause"], upd, "WHERE")) {
            wrote = false;
          } else {
            final_row = existing->second;
            for (const json& t : conflict->value("targetList", json::array())) {
              const std::size_t index = target_column(def, t);
              const json& expr = node_body(t).at("val");
              final_row[index] = assign(eval(expr, upd), def.columns[index], expr);
            }
            server_.catalog->remove(txn, def.name, existing->first);
            server_.catalog->insert(txn, def.name, final_row);
          }
        }
      } else {
        server_.catalog->insert(txn, def.name, row);
      }
      touched.push_back(key);
    } else {
      server_.catalog->insert(txn, def.name, row);
    }
    if (!wrote) continue;
    ++count;
    if (returning) {
      Scope ret = scope;
      ret.row = &final_row;
      r.rows.push_back(to_text_row(project(*returning, ret)));
    }
  }
  r.tag = "INSERT 0 " + std::to_string(count);
  return r;
}

StatementResult Executor::update(const json& node, const std::vector<Value>& params,
                                 bool describe_only) {
  WriteTarget w = write_target(node, params, server_, session_, "fromClause", "UPDATE ... FROM");
  const TableDef& def = *w.def;
  Scope& scope = w.scope;
  const std::optional<Projection>& returning = w.returning;
  StatementResult& r = w.result;
  if (describe_only) return r;
  check_writable("UPDATE");
  if (node.contains("whereClause")) eval(node["whereClause"], scope);
  std::vector<std::pair<std::size_t, const json*>> sets;
  static const json kNoTargets = json::array();
  for (const json& t : node.contains("targetList") ? node["targetList"] : kNoTargets) {
    sets.emplace_back(target_column(def, t), &node_body(t).at("val"));
  }
  const TxnId txn = current_txn();
  std::size_t count = 0;
  for (auto& [id, row] : server_.catalog->scan(txn, def.name)) {
    scope.row = &row;
    if (node.contains("whereClause") && !eval_condition(node["whereClause"], scope, "WHERE")) {
      continue;
    }
    Row updated = row;
    for (const auto& [index, expr] : sets) {
      updated[index] = assign(eval(*expr, scope), def.columns[index], *expr);
    }
    server_.catalog->remove(txn, def.name, id);
    server_.catalog->insert(txn, def.name, updated);
    ++count;
    if (returning) {
      Scope ret = scope;
      ret.row = &updated;
      r.rows.push_back(to_text_row(project(*returning, ret)));
    }
  }
  r.tag = "UPDATE " + std::to_string(count);
  return r;
}

StatementResult Executor::remove(const json& node, const std::vector<Value>& params,
                                 bool describe_only) {
  WriteTarget w = write_target(node, params, server_, session_, "usingClause", "DELETE ... USING");
  const TableDef& def = *w.def;
  Scope& scope = w.scope;
  const std::optional<Projection>& returning = w.returning;
  StatementResult& r = w.result;
  if (describe_only) return r;
  check_writable("DELETE");
  if (node.contains("whereClause")) eval(node["whereClause"], scope);
  const TxnId txn = current_txn();
  std::size_t count = 0;
  for (auto& [id, row] : server_.catalog->scan(txn, def.name)) {
    scope.row = &row;
    if (node.contains("whereClause") && !eval_condition(node["whereClause"], scope, "WHERE")) {
      continue;
    }
    server_.catalog->remove(txn, def.name, id);
    ++count;
    if (returning) r.rows.push_back(to_text_row(project(*returning, scope)));
  }
  r.tag = "DELETE " + std::to_string(count);
  return r;
}

namespace {

struct ParamTyping {
  const Catalog& catalog;
  std::map<int, Type> types;
  int max_number = 0;

  static int param_number(const json& node) {
    return node_kind(node) == "ParamRef" ? node_body(node).value("number", 0) : 0;
  }
  void set(const json& node, Type t) {
    if (const int n = param_number(node); n > 0 && !types.count(n)) types[n] = t;
  }
  std::optional<Type> type_of(const json& node, const TableDef* table) const {
    const std::string& kind = node_kind(node);
    if (kind == "ColumnRef" && table) {
      const json& fields = node_body(node).at("fields");
      if (node_kind(fields.back()) != "String") return std::nullopt;
      if (auto i = table->find(string_value(fields.back()))) return table->columns[*i].type;
    }
    if (kind == "TypeCast")
      return type_from_name(string_value(node_body(node).at("typeName").at("names").back()));
    if (kind == "A_Const") {
      const json& b = node_body(node);
      if (b.contains("ival")) return Type::int4;
      if (b.contains("sval")) return Type::text;
      if (b.contains("boolval")) return Type::boolean;
      if (b.contains("fval")) return Type::numeric;
    }
    return std::nullopt;
  }
  void walk(const json& node, const TableDef* table) {
    if (node.is_array()) {
      for (const json& child : node) walk(child, table);
      return;
    }
    if (!node.is_object()) return;
    const std::string& kind = node_kind(node);
    const json& body = node_body(node);
    if (kind == "ParamRef") max_number = std::max(max_number, body.value("number", 0));
    if (kind == "InsertStmt" || kind == "UpdateStmt" || kind == "DeleteStmt") {
      table = catalog.table(body.at("relation").value("relname", ""));
    }
    if (kind == "SelectStmt") {
      const json from = body.value("fromClause", json::array());
      if (from.size() == 1 && node_kind(from[0]) == "RangeVar") {
        table = catalog.table(node_body(from[0]).value("relname", ""));
      }
      if (body.contains("limitCount")) set(body["limitCount"], Type::int8);
      if (body.contains("limitOffset")) set(body["limitOffset"], Type::int8);
    }
    if (kind == "InsertStmt" && table && body.contains("selectStmt")) {
      std::vector<std::size_t> columns;
      for (const json& c : body.value("cols", json::array())) {
        auto i = table->find(node_body(c).value("name", ""));
        columns.push_back(i.value_or(SIZE_MAX));
      }
      if (!body.contains("cols")) {
        for (std::size_t i = 0; i < table->columns.size(); ++i) columns.push_back(i);
      }
      for (const json& list : node_body(body["selectStmt"]).value("valuesLists", json::array())) {
        const json& items = node_body(list).value("items", json::array());
        for (std::size_t i = 0; i < items.size() && i < columns.size(); ++i) {
          if (columns[i] != SIZE_MAX) set(items[i], table->columns[columns[i]].type);
        }
      }
    }
    if (kind == "ResTarget" && table && body.contains("name") && body.contains("val")) {
      if (auto i = table->find(body.value("name", ""))) set(body["val"], table->columns[*i].type);
    }
    if (kind == "TypeCast") {
      if (auto t = type_of(node, table)) set(body.at("arg"), *t);
    }
    if (kind == "A_Expr" && body.contains("lexpr") && body.contains("rexpr")) {
      if (auto t = type_of(body["rexpr"], table)) set(body["lexpr"], *t);
      if (auto t = type_of(body["lexpr"], table)) set(body["rexpr"], *t);
    }
    for (const auto& [key, child] : body.items()) walk(child, table);
  }
};

}  // namespace

std::vector<Type> Executor::parameter_types(const json& stmt,
                                            const std::vector<std::uint32_t>& declared) const {
  ParamTyping typing{*server_.catalog, {}, 0};
  typing.walk(stmt, nullptr);
  const std::size_t n = std::max(declared.size(), static_cast<std::size_t>(typing.max_number));
  std::vector<Type> out;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t oid = i < declared.size() ? declared[i] : 0;
    if (oid != 0) {
      auto t = type_from_oid(oid);
      if (!t) throw not_supported("parameters of type OID " + std::to_string(oid));
      out.push_back(*t);
      continue;
    }
    auto it = typing.types.find(static_cast<int>(i + 1));
    if (it == typing.types.end()) {
      throw SqlError("42P18",
                     "could not determine data type of parameter $" + std::to_string(i + 1));
    }
    out.push_back(it->second);
  }
  return out;
}

}  // namespace faultline::pg
