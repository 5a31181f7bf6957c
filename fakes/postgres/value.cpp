#include "fakes/postgres/value.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "fakes/postgres/sql_error.h"

namespace faultline::pg {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

SqlError invalid_input(Type t, std::string_view text) {
  return SqlError(
      "22P02", "invalid input syntax for type " + type_name(t) + ": \"" + std::string(text) + "\"");
}

std::int64_t parse_integer(Type t, std::string_view text) {
  std::string_view s = trim(text);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ptr != s.data() + s.size()) {
    if (ec == std::errc::result_out_of_range) {
      throw SqlError(
          "22003", "value \"" + std::string(text) + "\" is out of range for type " + type_name(t));
    }
    throw invalid_input(t, text);
  }
  if (ec == std::errc::result_out_of_range ||
      (t == Type::int4 && (v < INT32_MIN || v > INT32_MAX))) {
    throw SqlError("22003",
                   "value \"" + std::string(text) + "\" is out of range for type " + type_name(t));
  }
  return v;
}

// Decimal numbers as sign + digits + scale: value = (-1)^neg * digits * 10^-scale.
struct Decimal {
  bool neg = false;
  std::string digits;  // no leading zeros except "0"
  int scale = 0;
};

std::optional<Decimal> parse_decimal(std::string_view text) {
  std::string_view s = trim(text);
  Decimal d;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    d.neg = s.front() == '-';
    s.remove_prefix(1);
  }
  std::string digits;
  int scale = 0;
  bool seen_point = false, any = false;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
      any = true;
      if (seen_point) ++scale;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any) return std::nullopt;
  if (i < s.size()) {
    if (s[i] != 'e' && s[i] != 'E') return std::nullopt;
    int exp = 0;
    auto [ptr, ec] = std::from_chars(s.data() + i + 1 + (s.size() > i + 1 && s[i + 1] == '+'),
                                     s.data() + s.size(), exp);
    if (ec != std::errc() || ptr != s.data() + s.size() || exp > 1000 || exp < -1000) {
      return std::nullopt;
    }
    scale -= exp;
    if (scale < 0) {
      digits.append(static_cast<std::size_t>(-scale), '0');
      scale = 0;
    }
  }
  const auto first = digits.find_first_not_of('0');
  const std::size_t int_len = digits.size() - static_cast<std::size_t>(scale);
  std::size_t strip = first == std::string::npos ? int_len : std::min(first, int_len);
  if (strip == int_len && int_len > 0) strip = int_len;  // all-zero integer part
  digits = digits.substr(strip);
  if (digits.size() < static_cast<std::size_t>(scale) + 1) {
    digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
  }
  d.digits = digits;
  d.scale = scale;
  if (d.digits.find_first_not_of('0') == std::string::npos) d.neg = false;
  return d;
}

std::string decimal_text(const Decimal& d) {
  std::string out = d.neg ? "-" : "";
  const std::size_t int_len = d.digits.size() - static_cast<std::size_t>(d.scale);
  out += d.digits.substr(0, int_len);
  if (d.scale > 0) out += "." + d.digits.substr(int_len);
  return out;
}

// Rounds half away from zero to `scale` fractional digits.
Decimal round_decimal(Decimal d, int scale) {
  if (d.scale <= scale) {
    d.digits.append(static_cast<std::size_t>(scale - d.scale), '0');
    d.scale = scale;
    return d;
  }
  const std::size_t keep = d.digits.size() - static_cast<std::size_t>(d.scale - scale);
  const bool up = d.digits[keep] >= '5';
  std::string digits = d.digits.substr(0, keep);
  if (up) {
    int i = static_cast<int>(digits.size()) - 1;
    while (i >= 0 && digits[static_cast<std::size_t>(i)] == '9')
      digits[static_cast<std::size_t>(i--)] = '0';
    if (i < 0) {
      digits.insert(digits.begin(), '1');
    } else {
      ++digits[static_cast<std::size_t>(i)];
    }
  }
  Decimal out{d.neg, digits, scale};
  return *parse_decimal((out.neg ? "-" : "") + decimal_text(Decimal{false, digits, scale}));
}

int compare_decimal(const Decimal& a, const Decimal& b) {
  const bool az = a.digits.find_first_not_of('0') == std::string::npos;
  const bool bz = b.digits.find_first_not_of('0') == std::string::npos;
  const int as = az ? 0 : (a.neg ? -1 : 1), bs = bz ? 0 : (b.neg ? -1 : 1);
  if (as != bs) return as < bs ? -1 : 1;
  if (as == 0) return 0;
  const int scale = std::max(a.scale, b.scale);
  std::string x = a.digits + std::string(static_cast<std::size_t>(scale - a.scale), '0');
  std::string y = b.digits + std::string(static_cast<std::size_t>(scale - b.scale), '0');
  int c = x.size() != y.size() ? (x.size() < y.size() ? -1 : 1) : x.compare(y);
  c = c < 0 ? -1 : (c > 0 ? 1 : 0);
  return as < 0 ? -c : c;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::int64_t parse_timestamptz(std::string_view text) {
  const std::string_view s = trim(text);
  const auto bad = [&] { return invalid_input(Type::timestamptz, text); };
  std::size_t i = 0;
  const auto number = [&](std::size_t min_digits, std::size_t max_digits) -> std::int64_t {
    std::size_t start = i;
    while (i < s.size() && i - start < max_digits && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    if (i - start < min_digits) throw bad();
    std::int64_t v = 0;
    std::from_chars(s.data() + start, s.data() + i, v);
    return v;
  };
  const auto expect = [&](char c) {
    if (i >= s.size() || s[i] != c) throw bad();
    ++i;
  };
  const std::int64_t year = number(4, 4);
  expect('-');
  const std::int64_t month = number(1, 2);
  expect('-');
  const std::int64_t day = number(1, 2);
  std::int64_t hour = 0, minute = 0, second = 0, micros = 0, offset_s = 0;
  if (i < s.size() && (s[i] == ' ' || s[i] == 'T' || s[i] == 't')) {
    ++i;
    hour = number(1, 2);
    expect(':');
    minute = number(2, 2);
    if (i < s.size() && s[i] == ':') {
      ++i;
      second = number(2, 2);
      if (i < s.size() && s[i] == '.') {
        ++i;
        std::size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        if (i == start) throw bad();
        std::string frac(s.substr(start, std::min<std::size_t>(i - start, 7)));
        frac.resize(7, '0');
        micros = (std::stoll(frac) + 5) / 10;  // round to microseconds
      }
    }
    while (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size()) {
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (lower(s.substr(i)) == "utc") {
        i = s.size();
      } else if (s[i] == '+' || s[i] == '-') {
        const int sign = s[i] == '-' ? -1 : 1;
        ++i;
        const std::int64_t oh = number(1, 2);
        std::int64_t om = 0;
        if (i < s.size() && s[i] == ':') ++i;
        if (i < s.size()) om = number(2, 2);
        offset_s = sign * (oh * 3600 + om * 60);
      }
    }
  }
  if (i != s.size()) throw bad();
  static const unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 ||
      day > static_cast<std::int64_t>(kDays[month - 1]) - (month == 2 && !leap ? 1 : 0) ||
      hour > 24 || minute > 59 || second > 60) {
    throw SqlError("22008", "date/time field value out of range: \"" + std::string(text) + "\"");
  }
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 86400 + hour * 3600 + minute * 60 + second - offset_s) * 1000000) + micros;
}

std::string timestamptz_text(std::int64_t us) {
  std::int64_t secs = us / 1000000, frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u %02lld:%02lld:%02lld", static_cast<long long>(y),
                m, d, static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  std::string out = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "+00";
}

bool parse_bool(std::string_view text, bool& out) {
  const std::string s = lower(trim(text));
  if (s.empty()) return false;
  const auto prefix_of = [&](std::string_view word) { return word.substr(0, s.size()) == s; };
  if (s == "1" || prefix_of("true") || prefix_of("yes") || (s.size() >= 2 && prefix_of("on"))) {
    out = true;
    return true;
  }
  if (s == "0" || prefix_of("false") || prefix_of("no") || (s.size() >= 2 && prefix_of("off"))) {
    out = false;
    return true;
  }
  return false;
}

bool is_integer(Type t) {
  return t == Type::int4 || t == Type::int8;
}
bool is_number(Type t) {
  return is_integer(t) || t == Type::numeric;
}

}  // namespace

std::uint32_t type_oid(Type t) {
  switch (t) {
    case Type::boolean:
      return 16;
    case Type::int8:
      return 20;
    case Type::int4:
      return 23;
    case Type::text:
      return 25;
    case Type::numeric:
      return 1700;
    case Type::timestamptz:
      return 1184;
    case Type::void_:
      return 2278;
    case Type::unknown:
      break;
  }
  return 705;
}

std::string type_name(Type t) {
  switch (t) {
    case Type::boolean:
      return "boolean";
    case Type::int8:
      return "bigint";
    case Type::int4:
      return "integer";
    case Type::text:
      return "text";
    case Type::numeric:
      return "numeric";
    case Type::timestamptz:
      return "timestamp with time zone";
    case Type::void_:
      return "void";
    case Type::unknown:
      break;
  }
  return "unknown";
}

std::string type_column_name(Type t) {
  switch (t) {
    case Type::boolean:
      return "bool";
    case Type::int8:
      return "int8";
    case Type::int4:
      return "int4";
    case Type::text:
      return "text";
    case Type::numeric:
      return "numeric";
    case Type::timestamptz:
      return "timestamptz";
    case Type::void_:
      return "void";
    case Type::unknown:
      break;
  }
  return "unknown";
}

std::optional<Type> type_from_name(std::string_view name) {
  const std::string n = lower(name);
  if (n == "int" || n == "int4" || n == "integer") return Type::int4;
  if (n == "bigint" || n == "int8") return Type::int8;
  if (n == "text") return Type::text;
  if (n == "bool" || n == "boolean") return Type::boolean;
  if (n == "numeric" || n == "decimal") return Type::numeric;
  if (n == "timestamptz") return Type::timestamptz;
  return std::nullopt;
}

std::optional<Type> type_from_oid(std::uint32_t oid) {
  for (Type t :
       {Type::boolean, Type::int4, Type::int8, Type::text, Type::numeric, Type::timestamptz}) {
    if (type_oid(t) == oid) return t;
  }
  return std::nullopt;
}

Value parse_value(Type t, std::string_view text) {
  switch (t) {
    case Type::int4:
    case Type::int8:
      return Value{t, false, parse_integer(t, text), {}};
    case Type::boolean: {
      bool b = false;
      if (!parse_bool(text, b)) throw invalid_input(t, text);
      return Value::boolean(b);
    }
    case Type::numeric: {
      auto d = parse_decimal(text);
      if (!d) throw invalid_input(t, text);
      return Value{Type::numeric, false, 0, decimal_text(*d)};
    }
    case Type::timestamptz:
      return Value{t, false, parse_timestamptz(text), {}};
    case Type::text:
      return Value::text(std::string(text));
    case Type::unknown:
      return Value::unknown_literal(std::string(text));
    case Type::void_:
      break;
  }
  throw not_supported("input of type " + type_name(t));
}

std::optional<Value> coerce(const Value& v, Type t, CastContext context, int numeric_precision,
                            int numeric_scale) {
  if (v.null) {
    if (v.type == t || v.type == Type::unknown || context != CastContext::implicit ||
        (is_number(v.type) && is_number(t))) {
      return Value::null_of(t);
    }
    return std::nullopt;
  }
  Value out;
  if (v.type == t) {
    out = v;
  } else if (v.type == Type::unknown) {
    out = parse_value(t, v.s);
  } else if (is_integer(v.type) && is_integer(t)) {
    if (t == Type::int4 && (v.i < INT32_MIN || v.i > INT32_MAX)) {
      if (context == CastContext::implicit) return std::nullopt;
      throw SqlError("22003", "integer out of range");
    }
    out = Value{t, false, v.i, {}};
  } else if (is_integer(v.type) && t == Type::numeric) {
    out = Value{t, false, 0, std::to_string(v.i)};
  } else if (v.type == Type::numeric && is_integer(t)) {
    if (context == CastContext::implicit) return std::nullopt;
    const Decimal d = round_decimal(*parse_decimal(v.s), 0);
    const std::string txt = decimal_text(d);
    std::int64_t i = 0;
    auto [ptr, ec] = std::from_chars(txt.data(), txt.data() + txt.size(), i);
    if (ec != std::errc() || (t == Type::int4 && (i < INT32_MIN || i > INT32_MAX))) {
      throw SqlError("22003", t == Type::int4 ? "integer out of range" : "bigint out of range");
    }
    (void)ptr;
    out = Value{t, false, i, {}};
  } else if (t == Type::text) {
    if (context == CastContext::implicit) return std::nullopt;
    out = Value::text(to_text(v));
  } else if (context == CastContext::explicit_ && v.type == Type::text) {
    out = parse_value(t, v.s);
  } else if (context == CastContext::explicit_ && v.type == Type::int4 && t == Type::boolean) {
    out = Value::boolean(v.i != 0);
  } else if (context == CastContext::explicit_ && v.type == Type::boolean && t == Type::int4) {
    out = Value::int4(v.i);
  } else {
    return std::nullopt;
  }
  if (t == Type::numeric && numeric_scale >= 0) {
    const Decimal d = round_decimal(*parse_decimal(out.s), numeric_scale);
    if (numeric_precision > 0 &&
        static_cast<int>(d.digits.size()) - d.scale > numeric_precision - numeric_scale &&
        d.digits.find_first_not_of('0') < d.digits.size() - static_cast<std::size_t>(d.scale)) {
      SqlError e("22003", "numeric field overflow", -1);
      e.detail = "A field with precision " + std::to_string(numeric_precision) + ", scale " +
                 std::to_string(numeric_scale) + " must round to an absolute value less than 10^" +
                 std::to_string(numeric_precision - numeric_scale) + ".";
      throw e;
    }
    out.s = decimal_text(d);
  }
  return out;
}

std::string to_text(const Value& v) {
  switch (v.type) {
    case Type::int4:
    case Type::int8:
      return std::to_string(v.i);
    case Type::boolean:
      return v.i ? "t" : "f";
    case Type::timestamptz:
      return timestamptz_text(v.i);
    case Type::void_:
      return "";
    case Type::numeric:
    case Type::text:
    case Type::unknown:
      break;
  }
  return v.s;
}

std::optional<Type> common_type(Type a, Type b) {
  if (a == b) return a == Type::unknown ? Type::text : a;
  if (a == Type::unknown) return b;
  if (b == Type::unknown) return a;
  if (is_number(a) && is_number(b)) {
    if (a == Type::numeric || b == Type::numeric) return Type::numeric;
    return Type::int8;
  }
  return std::nullopt;
}

int compare(const Value& a, const Value& b) {
  const Type t = common_type(a.type, b.type).value_or(Type::text);
  const Value x = *coerce(a, t, CastContext::assignment);
  const Value y = *coerce(b, t, CastContext::assignment);
  switch (t) {
    case Type::int4:
    case Type::int8:
    case Type::boolean:
    case Type::timestamptz:
      return x.i < y.i ? -1 : (x.i > y.i ? 1 : 0);
    case Type::numeric:
      return compare_decimal(*parse_decimal(x.s), *parse_decimal(y.s));
    default: {
      // The C collation compares bytes; the real server in the conformance suite uses C too.
      const int c = x.s.compare(y.s);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
}

}  // namespace faultline::pg
