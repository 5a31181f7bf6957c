#include "fakes/postgres/expression.h"

#include <cmath>

#include "fakes/postgres/sql_error.h"
#include "harness/core/clock.h"

namespace faultline::pg {

using nlohmann::json;

namespace {

const json kEmpty = json::object();

SqlError at(SqlError e, const json& node) {
  if (e.position == 0) e.position = node_position(node);
  return e;
}

Value constant(const json& body) {
  if (body.value("isnull", false)) return Value::null_of(Type::unknown);
  if (auto it = body.find("ival"); it != body.end()) {
    const std::int64_t v = it->value("ival", std::int64_t{0});
    return Value::int4(v);
  }
  if (auto it = body.find("fval"); it != body.end()) {
    const std::string text = it->value("fval", "0");
    if (text.find_first_of(".eE") == std::string::npos) {
      try {
        return Value::int8(std::stoll(text));
      } catch (const std::exception&) {
      }
    }
    return parse_value(Type::numeric, text);
  }
  if (auto it = body.find("sval"); it != body.end()) {
    return Value::unknown_literal(it->value("sval", ""));
  }
  if (auto it = body.find("boolval"); it != body.end()) {
    return Value::boolean(it->value("boolval", false));
  }
  if (auto it = body.find("bsval"); it != body.end()) throw not_supported("bit-string constants");
  return Value::null_of(Type::unknown);
}

Value column(const json& body, const json& node, const Scope& scope) {
  const json& fields = body.at("fields");
  std::string qualifier, name;
  if (fields.size() == 1) {
    if (node_kind(fields[0]) == "A_Star")
      throw not_supported("* in this position", node_position(node));
    name = string_value(fields[0]);
  } else if (fields.size() == 2) {
    qualifier = string_value(fields[0]);
    if (node_kind(fields[1]) == "A_Star")
      throw not_supported("qualified * in this position", node_position(node));
    name = string_value(fields[1]);
  } else {
    throw not_supported("column references with more than two parts", node_position(node));
  }
  const Row* row = scope.row;
  if (!qualifier.empty()) {
    if (qualifier == "excluded" && scope.excluded) {
      row = scope.excluded;
    } else if (scope.table && qualifier == scope.table->name && qualifier != scope.alias) {
      SqlError e("42P01", "invalid reference to FROM-clause entry for table \"" + qualifier + "\"",
                 node_position(node));
      e.hint = "Perhaps you meant to reference the table alias \"" + scope.alias + "\".";
      throw e;
    } else if (!scope.table || qualifier != scope.alias) {
      throw SqlError("42P01", "missing FROM-clause entry for table \"" + qualifier + "\"",
                     node_position(node));
    }
  }
  const auto index = scope.table ? scope.table->find(name) : std::nullopt;
  if (!index) {
    throw SqlError("42703",
                   "column " + (qualifier.empty() ? "\"" + name + "\"" : qualifier + "." + name) +
                       " does not exist",
                   node_position(node));
  }
  if (!row) return Value::null_of(scope.table->columns[*index].type);
  return (*row)[*index];
}

Value parameter(const json& body, const json& node, const Scope& scope) {
  const int n = body.value("number", 0);
  if (!scope.params || n < 1 || static_cast<std::size_t>(n) > scope.params->size()) {
    throw SqlError("42P02", "there is no parameter $" + std::to_string(n), node_position(node));
  }
  return (*scope.params)[static_cast<std::size_t>(n - 1)];
}

Type cast_target(const json& type_name, const json& node) {
  const json& names = type_name.at("names");
  const std::string name = string_value(names.back());
  if (type_name.contains("arrayBounds")) throw not_supported("array types", node_position(node));
  auto t = type_from_name(name);
  if (!t) throw not_supported("type " + name, node_position(node));
  return *t;
}

Value compare_op(const std::string& op, const json& body, const json& node, const Scope& scope) {
  const Value l = eval(body.at("lexpr"), scope);
  const Value r = eval(body.at("rexpr"), scope);
  auto common = common_type(l.type, r.type);
  if (!common || *common == Type::void_) {
    SqlError e("42883",
               "operator does not exist: " + type_name(l.type) + " " + op + " " + type_name(r.type),
               node_position(node));
    e.hint =
        "No operator matches the given name and argument types. You might need to add explicit "
        "type casts.";
    throw e;
  }
  Value lc, rc;
  try {
    lc = *coerce(l, *common, CastContext::assignment);
  } catch (SqlError& e) {
    throw at(e, body.at("lexpr"));
  }
  try {
    rc = *coerce(r, *common, CastContext::assignment);
  } catch (SqlError& e) {
    throw at(e, body.at("rexpr"));
  }
  if (lc.null || rc.null) return Value::null_of(Type::boolean);
  const int c = compare(lc, rc);
  if (op == "=") return Value::boolean(c == 0);
  if (op == "<>" || op == "!=") return Value::boolean(c != 0);
  if (op == "<") return Value::boolean(c < 0);
  if (op == "<=") return Value::boolean(c <= 0);
  if (op == ">") return Value::boolean(c > 0);
  return Value::boolean(c >= 0);
}

Value boolean_arg(const json& node, const Scope& scope, const char* what) {
  Value v = eval(node, scope);
  if (v.type == Type::unknown) v = *coerce(v, Type::boolean, CastContext::assignment);
  if (v.type != Type::boolean) {
    throw SqlError(
        "42804",
        std::string("argument of ") + what + " must be type boolean, not type " + type_name(v.type),
        node_position(node));
  }
  return v;
}

Value bool_expr(const json& body, const Scope& scope) {
  const std::string op = body.value("boolop", "");
  const json& args = body.at("args");
  if (op == "NOT_EXPR") {
    const Value v = boolean_arg(args.at(0), scope, "NOT");
    return v.null ? v : Value::boolean(!v.i);
  }
  const bool is_and = op == "AND_EXPR";
  bool saw_null = false;
  for (const json& arg : args) {
    const Value v = boolean_arg(arg, scope, is_and ? "AND" : "OR");
    if (v.null) {
      saw_null = true;
    } else if (static_cast<bool>(v.i) != is_and) {
      return Value::boolean(!is_and);
    }
  }
  return saw_null ? Value::null_of(Type::boolean) : Value::boolean(is_and);
}

Value function(const json& body, const json& node, const Scope& scope) {
  const json& names = body.at("funcname");
  const std::string name = string_value(names.back());
  const json args = body.value("args", json::array());
  if (body.value("agg_star", false) || name == "count") {
    throw SqlError("42803", "aggregate functions are not allowed here", node_position(node));
  }
  if (body.contains("over")) throw not_supported("window functions", node_position(node));
  if (name == "version" && args.empty()) {
    return Value::text("PostgreSQL " + scope.server->server_version +
                       " on x86_64-pc-linux-gnu, compiled by faultline, 64-bit");
  }
  if (name == "now" && args.empty()) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
        scope.server->clock->wall_now().time_since_epoch());
    return Value{Type::timestamptz, false, us.count(), {}};
  }
  if (name == "current_database" && args.empty()) return Value::text(scope.session->database);
  if (name == "pg_sleep" && args.size() == 1) {
    const Value v = eval(args[0], scope);
    if (!v.null && v.type != Type::void_) {
      double seconds = 0;
      try {
        seconds = std::stod(to_text(v));
      } catch (const std::exception&) {
        throw SqlError("22P02",
                       "invalid input syntax for type double precision: \"" + to_text(v) + "\"",
                       node_position(args[0]));
      }
      if (seconds > 0 && std::isfinite(seconds) && scope.sleep) {
        *scope.sleep += std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
      }
    }
    return Value{Type::void_, false, 0, {}};
  }
  throw not_supported("function " + name + "()", node_position(node));
}

}  // namespace

const std::string& node_kind(const json& node) {
  static const std::string kNone;
  return node.is_object() && !node.empty() ? node.begin().key() : kNone;
}

const json& node_body(const json& node) {
  return node.is_object() && !node.empty() ? node.begin().value() : kEmpty;
}

int node_position(const json& node) {
  const json& body = node_body(node);
  if (node_kind(node) == "TypeCast" && body.contains("arg")) {
    // PostgreSQL reports a cast at the leftmost of its argument and its "::".
    const int arg = node_position(body["arg"]);
    auto own = body.find("location");
    const int self = own != body.end() && own->is_number() ? own->get<int>() + 1 : 0;
    if (arg > 0 && (self == 0 || arg < self)) return arg;
    return self;
  }
  if (!body.is_object()) return 0;
  auto it = body.find("location");
  return it != body.end() && it->is_number() && it->get<int>() >= 0 ? it->get<int>() + 1 : 0;
}

std::string string_value(const json& node) {
  return node_body(node).value("sval", "");
}

Value eval(const json& node, const Scope& scope) {
  const std::string& kind = node_kind(node);
  const json& body = node_body(node);
  if (kind == "A_Const") return constant(body);
  if (kind == "ColumnRef") return column(body, node, scope);
  if (kind == "ParamRef") return parameter(body, node, scope);
  if (kind == "TypeCast") {
    const Value v = eval(body.at("arg"), scope);
    const json& tn = body.at("typeName");
    const Type t = cast_target(tn, node);
    int precision = 0, scale = -1;
    if (t == Type::numeric && tn.contains("typmods")) {
      const json& mods = tn["typmods"];
      precision = node_body(mods.at(0)).value("ival", json::object()).value("ival", 0);
      scale =
          mods.size() > 1 ? node_body(mods[1]).value("ival", json::object()).value("ival", 0) : 0;
    }
    try {
      auto out = coerce(v, t, CastContext::explicit_, precision, scale);
      if (!out) {
        throw SqlError("42846", "cannot cast type " + type_name(v.type) + " to " + type_name(t),
                       node_position(node));
      }
      return *out;
    } catch (SqlError& e) {
      throw at(e, body.at("arg"));
    }
  }
  if (kind == "A_Expr") {
    const std::string akind = body.value("kind", "");
    const std::string op = body.contains("name") ? string_value(body["name"].back()) : "";
    if (akind == "AEXPR_OP" &&
        (op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
         op == ">=") &&
        body.contains("lexpr")) {
      return compare_op(op, body, node, scope);
    }
    throw not_supported("operator " + (op.empty() ? akind : op), node_position(node));
  }
  if (kind == "BoolExpr") return bool_expr(body, scope);
  if (kind == "NullTest") {
    const Value v = eval(body.at("arg"), scope);
    const bool is_null = body.value("nulltesttype", "") == "IS_NULL";
    return Value::boolean(v.null == is_null);
  }
  if (kind == "FuncCall") return function(body, node, scope);
  if (kind == "SQLValueFunction") {
    const std::string op = body.value("op", "");
    if (op == "SVFOP_CURRENT_TIMESTAMP") {
      json call = {{"FuncCall", {{"funcname", json::array({{{"String", {{"sval", "now"}}}}})}}}};
      return eval(call, scope);
    }
    if (op == "SVFOP_CURRENT_USER" || op == "SVFOP_SESSION_USER" || op == "SVFOP_USER") {
      return Value::text(scope.session->user);
    }
    throw not_supported("SQL value function " + op, node_position(node));
  }
  if (kind == "SetToDefault") return Value::null_of(Type::unknown);
  if (kind == "SubLink") throw not_supported("subqueries", node_position(node));
  throw not_supported("expression " + kind, node_position(node));
}

bool eval_condition(const json& node, const Scope& scope, const char* clause) {
  const Value v = boolean_arg(node, scope, clause);
  return !v.null && v.i != 0;
}

bool is_count_call(const json& node) {
  if (node_kind(node) != "FuncCall") return false;
  const json& names = node_body(node).at("funcname");
  return string_value(names.back()) == "count";
}

std::string output_name(const json& node) {
  const std::string& kind = node_kind(node);
  const json& body = node_body(node);
  if (kind == "ColumnRef") {
    const json& fields = body.at("fields");
    return node_kind(fields.back()) == "String" ? string_value(fields.back()) : "?column?";
  }
  if (kind == "FuncCall") return string_value(body.at("funcname").back());
  if (kind == "TypeCast") {
    const std::string inner = output_name(body.at("arg"));
    if (inner != "?column?") return inner;
    auto t = type_from_name(string_value(body.at("typeName").at("names").back()));
    return t ? type_column_name(*t) : "?column?";
  }
  if (kind == "SQLValueFunction") {
    const std::string op = body.value("op", "");
    if (op == "SVFOP_CURRENT_TIMESTAMP") return "current_timestamp";
    if (op == "SVFOP_CURRENT_USER") return "current_user";
    if (op == "SVFOP_SESSION_USER") return "session_user";
    if (op == "SVFOP_USER") return "current_user";
  }
  return "?column?";
}

}  // namespace faultline::pg
