// SQL values of the fake: the six column types it supports, their text I/O and comparison.
//
// Values are held typed (integers as int64, booleans, numerics as canonical decimal text,
// timestamptz as microseconds since the Unix epoch in UTC) and written in PostgreSQL's text
// output format with TimeZone = UTC. Input errors raise the SQLSTATEs PostgreSQL raises (22P02,
// 22003, 22007, 22008). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::pg {

enum class Type { unknown, boolean, int4, int8, numeric, text, timestamptz, void_ };

// PostgreSQL's type OIDs (unknown is 705, void 2278).
std::uint32_t type_oid(Type t);
// The name used in messages ("integer", "bigint", "text", "boolean", "numeric",
// "timestamp with time zone").
std::string type_name(Type t);
// The name a type cast gives a result column ("int4", "int8", "text", "bool", "numeric",
// "timestamptz").
std::string type_column_name(Type t);
// Resolves a type name as written in SQL (int, integer, int4, bigint, int8, text, varchar is not
// supported, boolean, bool, numeric, decimal, timestamptz). nullopt if not one of ours.
std::optional<Type> type_from_name(std::string_view name);
std::optional<Type> type_from_oid(std::uint32_t oid);

struct Value {
  Type type = Type::unknown;
  bool null = true;
  std::int64_t i = 0;  // int4, int8, timestamptz (microseconds), boolean (0/1)
  std::string s;       // text, numeric (canonical decimal), unknown literals

  static Value null_of(Type t) { return Value{t, true, 0, {}}; }
  static Value int4(std::int64_t v) { return Value{Type::int4, false, v, {}}; }
  static Value int8(std::int64_t v) { return Value{Type::int8, false, v, {}}; }
  static Value boolean(bool v) { return Value{Type::boolean, false, v ? 1 : 0, {}}; }
  static Value text(std::string v) { return Value{Type::text, false, 0, std::move(v)}; }
  static Value unknown_literal(std::string v) {
    return Value{Type::unknown, false, 0, std::move(v)};
  }
};

// Parses `text` as input for `t` (as a literal or a parameter value would be).
Value parse_value(Type t, std::string_view text);
// How a conversion is asked for: implicitly (a comparison), by assignment to a column, or by an
// explicit cast. Each allows what PostgreSQL's cast catalogue allows in that context.
enum class CastContext { implicit, assignment, explicit_ };
// Converts `v` to `t`; nullopt if PostgreSQL has no such cast in `context` (the caller names the
// error). `numeric_scale` >= 0 rounds a numeric to that many fractional digits and
// `numeric_precision` > 0 bounds its digits (22003 numeric field overflow).
std::optional<Value> coerce(const Value& v, Type t, CastContext context, int numeric_precision = 0,
                            int numeric_scale = -1);
// PostgreSQL's text output of a non-null value.
std::string to_text(const Value& v);

// Orders two non-null values of comparable types (after coercion to a common type); <0, 0, >0.
int compare(const Value& a, const Value& b);
// The type two operands are compared in; nullopt if PostgreSQL has no such operator.
std::optional<Type> common_type(Type a, Type b);

}  // namespace faultline::pg
