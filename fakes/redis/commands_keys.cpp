// Keyspace commands: DEL UNLINK EXISTS EXPIRE PEXPIRE TTL PTTL PERSIST KEYS SCAN TYPE SELECT
// DBSIZE FLUSHDB FLUSHALL.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <functional>
#include <string>

#include "fakes/redis/commands.h"
#include "fakes/redis/resp.h"

namespace faultline::fakes::redis {

namespace {

long long now_ms(CommandContext& ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             ctx.keyspace.clock().now().time_since_epoch())
      .count();
}

void del_command(CommandContext& ctx, const Args& argv) {
  long long deleted = 0;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (ctx.keyspace.erase(ctx.client.db, argv[i])) ++deleted;
  }
  add_integer(ctx.out, deleted);
}

void exists_command(CommandContext& ctx, const Args& argv) {
  long long count = 0;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (ctx.keyspace.find(ctx.client.db, argv[i])) ++count;
  }
  add_integer(ctx.out, count);
}

enum ExpireFlags : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

void expire_generic(CommandContext& ctx, const Args& argv, bool seconds, const char* name) {
  unsigned flags = 0;
  for (std::size_t j = 3; j < argv.size(); ++j) {
    const std::string opt = to_lower(argv[j]);
    if (opt == "nx") {
      flags |= kNx;
    } else if (opt == "xx") {
      flags |= kXx;
    } else if (opt == "gt") {
      flags |= kGt;
    } else if (opt == "lt") {
      flags |= kLt;
    } else {
      add_error(ctx.out, "ERR Unsupported option " + argv[j]);
      return;
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    add_error(ctx.out, "ERR NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if ((flags & kGt) && (flags & kLt)) {
    add_error(ctx.out, "ERR GT and LT options at the same time are not compatible");
    return;
  }
  long long when = 0;
  if (!integer_arg(ctx, argv[2], when)) return;
  const std::string invalid = std::string("ERR invalid expire time in '") + name + "' command";
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
      add_error(ctx.out, invalid);
      return;
    }
    when *= 1000;
  }
  const long long base = now_ms(ctx);
  if (when > kMaxDeadlineMs - base) {
    add_error(ctx.out, invalid);
    return;
  }
  when += base;
  const int db = ctx.client.db;
  const std::string& key = argv[1];
  if (!ctx.keyspace.find(db, key)) {
    add_integer(ctx.out, 0);
    return;
  }
  const auto current = ctx.keyspace.deadline(db, key);
  const auto current_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(current->time_since_epoch())
        .count();
  };
  if (flags) {
    if ((flags & kNx) && current) return add_integer(ctx.out, 0);
    if ((flags & kXx) && !current) return add_integer(ctx.out, 0);
    // A key without a TTL has an infinite one: GT never applies to it, LT always does.
    if ((flags & kGt) && (!current || when <= current_ms())) return add_integer(ctx.out, 0);
    if ((flags & kLt) && current && when >= current_ms()) return add_integer(ctx.out, 0);
  }
  if (when <= base) {
    ctx.keyspace.erase(db, key);  // a deadline already passed deletes the key
  } else {
    ctx.keyspace.set_deadline(db, key, TimePoint(std::chrono::milliseconds(when)));
  }
  add_integer(ctx.out, 1);
}

void expire_command(CommandContext& ctx, const Args& argv) {
  expire_generic(ctx, argv, true, "expire");
}
void pexpire_command(CommandContext& ctx, const Args& argv) {
  expire_generic(ctx, argv, false, "pexpire");
}

void ttl_generic(CommandContext& ctx, const Args& argv, bool seconds) {
  const int db = ctx.client.db;
  if (!ctx.keyspace.find_read(db, argv[1])) return add_integer(ctx.out, -2);
  const auto deadline = ctx.keyspace.deadline(db, argv[1]);
  if (!deadline) return add_integer(ctx.out, -1);
  long long left =
      std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - ctx.keyspace.clock().now())
          .count();
  if (left < 0) left = 0;
  add_integer(ctx.out, seconds ? (left + 500) / 1000 : left);
}

void ttl_command(CommandContext& ctx, const Args& argv) {
  ttl_generic(ctx, argv, true);
}
void pttl_command(CommandContext& ctx, const Args& argv) {
  ttl_generic(ctx, argv, false);
}

void persist_command(CommandContext& ctx, const Args& argv) {
  const int db = ctx.client.db;
  if (!ctx.keyspace.find(db, argv[1]) || !ctx.keyspace.deadline(db, argv[1])) {
    return add_integer(ctx.out, 0);
  }
  ctx.keyspace.set_deadline(db, argv[1], std::nullopt);
  add_integer(ctx.out, 1);
}

bool pattern_matches(const std::string& pattern, const std::string& key) {
  return pattern == "*" || glob_match(pattern, key);
}

void keys_command(CommandContext& ctx, const Args& argv) {
  std::vector<std::string> matched;
  for (auto& key : ctx.keyspace.keys(ctx.client.db)) {
    if (pattern_matches(argv[1], key)) matched.push_back(std::move(key));
  }
  add_array_header(ctx.out, matched.size());
  for (const auto& k : matched) add_bulk(ctx.out, k);
}

// SCAN walks the keys in the order of a 63-bit hash of their names; the cursor is the hash to
// resume from. A key present for the whole iteration is returned exactly once, as SCAN promises
// (redis-server promises at least once), and the order does not depend on insertion.
std::uint64_t scan_position(const std::string& key) {
  return (std::hash<std::string>{}(key)&0x7fffffffffffffffULL) | 1ULL;
}

void scan_command(CommandContext& ctx, const Args& argv) {
  unsigned long long cursor = 0;
  {
    const std::string& c = argv[1];
    char* end = nullptr;
    errno = 0;
    cursor = std::strtoull(c.c_str(), &end, 10);
    // strtoul's rules, as redis-server parses it: a sign is accepted, leading space is not.
    if (c.empty() || end != c.c_str() + c.size() || errno == ERANGE ||
        std::isspace(static_cast<unsigned char>(c[0]))) {
      add_error(ctx.out, "ERR invalid cursor");
      return;
    }
  }
  long long count = 10;
  std::string pattern = "*";
  std::string type;
  for (std::size_t j = 2; j < argv.size(); ++j) {
    const std::string opt = to_lower(argv[j]);
    const bool has_next = j + 1 < argv.size();
    if (opt == "count" && has_next) {
      if (!integer_arg(ctx, argv[++j], count)) return;
      if (count < 1) return reply_syntax_error(ctx);
    } else if (opt == "match" && has_next) {
      pattern = argv[++j];
    } else if (opt == "type" && has_next) {
      type = argv[++j];
    } else {
      return reply_syntax_error(ctx);
    }
  }
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (auto& key : ctx.keyspace.keys(ctx.client.db)) {
    const std::uint64_t pos = scan_position(key);
    if (pos >= cursor) order.emplace_back(pos, std::move(key));
  }
  std::sort(order.begin(), order.end());
  std::size_t taken = std::min<std::size_t>(order.size(), static_cast<std::size_t>(count));
  // Keys sharing a position must be returned together, or the cursor would skip some.
  while (taken > 0 && taken < order.size() && order[taken].first == order[taken - 1].first) {
    ++taken;
  }
  const unsigned long long next = taken < order.size() ? order[taken].first : 0;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < taken; ++i) {
    const std::string& key = order[i].second;
    if (!pattern_matches(pattern, key)) continue;
    if (!type.empty()) {
      Entry* e = ctx.keyspace.find(ctx.client.db, key);
      if (!e || !equals_ignore_case(type, type_name(e->value))) continue;
    }
    out.push_back(key);
  }
  add_array_header(ctx.out, 2);
  add_bulk(ctx.out, std::to_string(next));
  add_array_header(ctx.out, out.size());
  for (const auto& k : out) add_bulk(ctx.out, k);
}

void type_command(CommandContext& ctx, const Args& argv) {
  Entry* e = ctx.keyspace.find(ctx.client.db, argv[1]);
  add_status(ctx.out, e ? type_name(e->value) : "none");
}

void select_command(CommandContext& ctx, const Args& argv) {
  long long db = 0;
  if (!integer_arg(ctx, argv[1], db)) return;
  if (db > INT_MAX || db < INT_MIN) {
    add_error(ctx.out, "ERR value is out of range, value must between -2147483648 and 2147483647");
    return;
  }
  if (db < 0 || db >= ctx.keyspace.databases()) {
    add_error(ctx.out, "ERR DB index is out of range");
    return;
  }
  ctx.client.db = static_cast<int>(db);
  add_status(ctx.out, "OK");
}

void dbsize_command(CommandContext& ctx, const Args&) {
  add_integer(ctx.out, static_cast<long long>(ctx.keyspace.size(ctx.client.db)));
}

bool flush_mode_ok(CommandContext& ctx, const Args& argv) {
  if (argv.size() == 1) return true;
  if (argv.size() == 2 &&
      (equals_ignore_case(argv[1], "async") || equals_ignore_case(argv[1], "sync"))) {
    return true;
  }
  reply_syntax_error(ctx);
  return false;
}

void flushdb_command(CommandContext& ctx, const Args& argv) {
  if (!flush_mode_ok(ctx, argv)) return;
  ctx.keyspace.flush(ctx.client.db);
  add_status(ctx.out, "OK");
}

void flushall_command(CommandContext& ctx, const Args& argv) {
  if (!flush_mode_ok(ctx, argv)) return;
  ctx.keyspace.flush_all();
  add_status(ctx.out, "OK");
}

}  // namespace

void register_keys_commands(std::vector<CommandSpec>& t) {
  t.push_back({"del", -2, kWrite, del_command});
  t.push_back({"unlink", -2, kWrite | kFast, del_command});
  t.push_back({"exists", -2, kFast, exists_command});
  t.push_back({"expire", -3, kWrite | kFast, expire_command});
  t.push_back({"pexpire", -3, kWrite | kFast, pexpire_command});
  t.push_back({"ttl", 2, kFast, ttl_command});
  t.push_back({"pttl", 2, kFast, pttl_command});
  t.push_back({"persist", 2, kWrite | kFast, persist_command});
  t.push_back({"keys", 2, 0, keys_command});
  t.push_back({"scan", -2, 0, scan_command});
  t.push_back({"type", 2, kFast, type_command});
  t.push_back({"select", 2, kLoading | kFast, select_command});
  t.push_back({"dbsize", 1, kFast, dbsize_command});
  t.push_back({"flushdb", -1, kWrite, flushdb_command});
  t.push_back({"flushall", -1, kWrite, flushall_command});
}

}  // namespace faultline::fakes::redis
