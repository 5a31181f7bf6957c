#include "fakes/postgres/sql_parse.h"

#include <cctype>
#include <charconv>

#include <pg_query.h>

#include "fakes/postgres/sql_error.h"

namespace faultline::pg {

namespace {

// Reads the integer literal written at byte `location` of `sql` ("-3", "- 3", "42").
std::int64_t integer_at(const std::string& sql, std::int64_t location) {
  std::size_t i = static_cast<std::size_t>(location);
  bool negative = false;
  if (i < sql.size() && sql[i] == '-') {
    negative = true;
    ++i;
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
  }
  std::int64_t v = 0;
  std::from_chars(sql.data() + std::min(i, sql.size()), sql.data() + sql.size(), v);
  return negative ? -v : v;
}

void restore_integers(nlohmann::json& node, const std::string& sql) {
  if (node.is_object()) {
    if (auto c = node.find("A_Const"); c != node.end() && c->is_object()) {
      auto iv = c->find("ival");
      if (iv != c->end() && iv->is_object() && !iv->contains("ival") && c->contains("location")) {
        (*iv)["ival"] = integer_at(sql, (*c)["location"].get<std::int64_t>());
      }
    }
    for (auto& [key, child] : node.items()) restore_integers(child, sql);
  } else if (node.is_array()) {
    for (auto& child : node) restore_integers(child, sql);
  }
}

}  // namespace

std::vector<ParsedStatement> parse_sql(const std::string& sql) {
  PgQueryParseResult result = pg_query_parse(sql.c_str());
  if (result.error) {
    SqlError e(std::string(result.error->message).find("stack depth") != std::string::npos
                   ? "54001"
                   : "42601",
               result.error->message, result.error->cursorpos);
    pg_query_free_parse_result(result);
    throw e;
  }
  nlohmann::json tree = nlohmann::json::parse(result.parse_tree, nullptr, false);
  pg_query_free_parse_result(result);
  if (tree.is_discarded()) throw SqlError("XX000", "could not read the parse tree");
  restore_integers(tree, sql);
  std::vector<ParsedStatement> out;
  for (auto& raw : tree.value("stmts", nlohmann::json::array())) {
    ParsedStatement s;
    s.node = raw.value("stmt", nlohmann::json::object());
    s.kind = s.node.empty() ? "" : s.node.begin().key();
    const std::size_t loc = raw.value("stmt_location", 0);
    const std::size_t len = raw.value("stmt_len", 0);
    s.text = sql.substr(std::min(loc, sql.size()), len == 0 ? std::string::npos : len);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace faultline::pg
