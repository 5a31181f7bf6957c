// String commands: GET SET GETDEL MGET MSET INCR INCRBY DECR DECRBY APPEND STRLEN.
#include <chrono>
#include <climits>
#include <string>

#include "fakes/redis/commands.h"
#include "fakes/redis/resp.h"

namespace faultline::fakes::redis {

namespace {

constexpr long long kMaxStringSize = 512LL * 1024 * 1024;  // proto-max-bulk-len

// The string under `key` for reading: nullptr if missing (*missing set) or of another type
// (WRONGTYPE replied, *missing false).
const std::string* string_for_read(CommandContext& ctx, const std::string& key, bool& wrong_type) {
  wrong_type = false;
  Entry* e = ctx.keyspace.find_read(ctx.client.db, key);
  if (!e) return nullptr;
  if (const auto* s = std::get_if<std::string>(&e->value)) return s;
  wrong_type = true;
  reply_wrong_type(ctx);
  return nullptr;
}

void get_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  const std::string* s = string_for_read(ctx, argv[1], wrong_type);
  if (wrong_type) return;
  if (s) {
    add_bulk(ctx.out, *s);
  } else {
    add_null(ctx.out);
  }
}

enum SetFlags : unsigned { kNx = 1, kXx = 2, kGet = 4, kKeepTtl = 8, kEx = 16, kPx = 32, kAt = 64 };

void set_command(CommandContext& ctx, const Args& argv) {
  unsigned flags = 0;
  const std::string* expire = nullptr;
  for (std::size_t j = 3; j < argv.size(); ++j) {
    const std::string opt = to_lower(argv[j]);
    const bool has_next = j + 1 < argv.size();
    const bool any_expire = flags & (kEx | kPx | kKeepTtl | kAt);
    if (opt == "nx" && !(flags & kXx)) {
      flags |= kNx;
    } else if (opt == "xx" && !(flags & kNx)) {
      flags |= kXx;
    } else if (opt == "get") {
      flags |= kGet;
    } else if (opt == "keepttl" && !any_expire) {
      flags |= kKeepTtl;
    } else if ((opt == "ex" || opt == "px") && !any_expire && has_next) {
      flags |= opt == "ex" ? kEx : kPx;
      expire = &argv[++j];
    } else if ((opt == "exat" || opt == "pxat") && !any_expire && has_next) {
      // Absolute Unix times would need the wall clock, which the fake keeps out of its decisions.
      add_error(ctx.out, "ERR the faultline Redis fake does not support SET EXAT/PXAT");
      return;
    } else {
      reply_syntax_error(ctx);
      return;
    }
  }
  long long ms = 0;
  if (expire) {
    if (!integer_arg(ctx, *expire, ms)) return;
    if (ms <= 0 || ((flags & kEx) && ms > LLONG_MAX / 1000)) {
      add_error(ctx.out, "ERR invalid expire time in 'set' command");
      return;
    }
    if (flags & kEx) ms *= 1000;
    const long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 ctx.keyspace.clock().now().time_since_epoch())
                                 .count();
    if (ms > kMaxDeadlineMs - now_ms) {
      add_error(ctx.out, "ERR invalid expire time in 'set' command");
      return;
    }
  }
  const std::string& key = argv[1];
  if (flags & kGet) {
    bool wrong_type = false;
    const std::string* old = string_for_read(ctx, key, wrong_type);
    if (wrong_type) return;
    if (old) {
      add_bulk(ctx.out, *old);
    } else {
      add_null(ctx.out);
    }
  }
  const bool found = ctx.keyspace.find(ctx.client.db, key) != nullptr;
  if (((flags & kNx) && found) || ((flags & kXx) && !found)) {
    if (!(flags & kGet)) add_null(ctx.out);
    return;
  }
  ctx.keyspace.store(ctx.client.db, key, argv[2], (flags & kKeepTtl) != 0);
  if (expire) {
    ctx.keyspace.set_deadline(ctx.client.db, key,
                              ctx.keyspace.clock().now() + std::chrono::milliseconds(ms));
  }
  if (!(flags & kGet)) add_status(ctx.out, "OK");
}

void getdel_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  const std::string* s = string_for_read(ctx, argv[1], wrong_type);
  if (wrong_type) return;
  if (!s) {
    add_null(ctx.out);
    return;
  }
  add_bulk(ctx.out, *s);
  ctx.keyspace.erase(ctx.client.db, argv[1]);
}

void mget_command(CommandContext& ctx, const Args& argv) {
  add_array_header(ctx.out, argv.size() - 1);
  for (std::size_t i = 1; i < argv.size(); ++i) {
    Entry* e = ctx.keyspace.find_read(ctx.client.db, argv[i]);
    const auto* s = e ? std::get_if<std::string>(&e->value) : nullptr;
    if (s) {
      add_bulk(ctx.out, *s);
    } else {
      add_null(ctx.out);
    }
  }
}

void mset_command(CommandContext& ctx, const Args& argv) {
  if (argv.size() % 2 == 0) {
    reply_arity_error(ctx, "mset");
    return;
  }
  for (std::size_t i = 1; i + 1 < argv.size(); i += 2) {
    ctx.keyspace.store(ctx.client.db, argv[i], argv[i + 1]);
  }
  add_status(ctx.out, "OK");
}

void incr_by(CommandContext& ctx, const std::string& key, long long delta) {
  Entry* e = ctx.keyspace.find(ctx.client.db, key);
  long long value = 0;
  if (e) {
    const auto* s = std::get_if<std::string>(&e->value);
    if (!s) {
      reply_wrong_type(ctx);
      return;
    }
    if (!parse_redis_integer(*s, value)) {
      add_error(ctx.out, "ERR value is not an integer or out of range");
      return;
    }
  }
  if ((delta < 0 && value < 0 && delta < LLONG_MIN - value) ||
      (delta > 0 && value > 0 && delta > LLONG_MAX - value)) {
    add_error(ctx.out, "ERR increment or decrement would overflow");
    return;
  }
  value += delta;
  if (e) {
    std::get<std::string>(e->value) = std::to_string(value);
    ctx.keyspace.updated(ctx.client.db, key, *e);
  } else {
    ctx.keyspace.store(ctx.client.db, key, std::to_string(value));
  }
  add_integer(ctx.out, value);
}

void incr_command(CommandContext& ctx, const Args& argv) {
  incr_by(ctx, argv[1], 1);
}
void decr_command(CommandContext& ctx, const Args& argv) {
  incr_by(ctx, argv[1], -1);
}

void incrby_command(CommandContext& ctx, const Args& argv) {
  long long delta = 0;
  if (!integer_arg(ctx, argv[2], delta)) return;
  incr_by(ctx, argv[1], delta);
}

void decrby_command(CommandContext& ctx, const Args& argv) {
  long long delta = 0;
  if (!integer_arg(ctx, argv[2], delta)) return;
  if (delta == LLONG_MIN) {
    add_error(ctx.out, "ERR decrement would overflow");
    return;
  }
  incr_by(ctx, argv[1], -delta);
}

void append_command(CommandContext& ctx, const Args& argv) {
  Entry* e = ctx.keyspace.find(ctx.client.db, argv[1]);
  if (!e) {
    ctx.keyspace.store(ctx.client.db, argv[1], argv[2]);
    add_integer(ctx.out, static_cast<long long>(argv[2].size()));
    return;
  }
  auto* s = std::get_if<std::string>(&e->value);
  if (!s) {
    reply_wrong_type(ctx);
    return;
  }
  if (static_cast<long long>(s->size() + argv[2].size()) > kMaxStringSize) {
    add_error(ctx.out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return;
  }
  s->append(argv[2]);
  const auto len = static_cast<long long>(s->size());
  ctx.keyspace.updated(ctx.client.db, argv[1], *e);
  add_integer(ctx.out, len);
}

void strlen_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  const std::string* s = string_for_read(ctx, argv[1], wrong_type);
  if (wrong_type) return;
  add_integer(ctx.out, s ? static_cast<long long>(s->size()) : 0);
}

}  // namespace

void register_string_commands(std::vector<CommandSpec>& t) {
  t.push_back({"get", 2, kFast, get_command});
  t.push_back({"set", -3, kWrite | kDenyOom, set_command});
  t.push_back({"getdel", 2, kWrite | kFast, getdel_command});
  t.push_back({"mget", -2, kFast, mget_command});
  t.push_back({"mset", -3, kWrite | kDenyOom, mset_command});
  t.push_back({"incr", 2, kWrite | kDenyOom | kFast, incr_command});
  t.push_back({"incrby", 3, kWrite | kDenyOom | kFast, incrby_command});
  t.push_back({"decr", 2, kWrite | kDenyOom | kFast, decr_command});
  t.push_back({"decrby", 3, kWrite | kDenyOom | kFast, decrby_command});
  t.push_back({"append", 3, kWrite | kDenyOom, append_command});
  t.push_back({"strlen", 2, kFast, strlen_command});
}

}  // namespace faultline::fakes::redis
