// List commands: LPUSH RPUSH LPOP RPOP LRANGE LLEN.
#include <string>

#include "fakes/redis/commands.h"
#include "fakes/redis/resp.h"

namespace faultline::fakes::redis {

namespace {

ListValue* list_at(CommandContext& ctx, const std::string& key, bool read, bool& wrong_type) {
  wrong_type = false;
  Entry* e =
      read ? ctx.keyspace.find_read(ctx.client.db, key) : ctx.keyspace.find(ctx.client.db, key);
  if (!e) return nullptr;
  if (auto* l = std::get_if<ListValue>(&e->value)) return l;
  wrong_type = true;
  reply_wrong_type(ctx);
  return nullptr;
}

void push_generic(CommandContext& ctx, const Args& argv, bool front) {
  bool wrong_type = false;
  list_at(ctx, argv[1], false, wrong_type);
  if (wrong_type) return;
  Entry* e = ctx.keyspace.find(ctx.client.db, argv[1]);
  if (!e) e = &ctx.keyspace.store(ctx.client.db, argv[1], ListValue{});
  auto& l = std::get<ListValue>(e->value);
  for (std::size_t i = 2; i < argv.size(); ++i) {
    if (front) {
      l.push_front(argv[i]);
    } else {
      l.push_back(argv[i]);
    }
  }
  const auto len = static_cast<long long>(l.size());
  ctx.keyspace.updated(ctx.client.db, argv[1], *e);
  add_integer(ctx.out, len);
}

void lpush_command(CommandContext& ctx, const Args& argv) {
  push_generic(ctx, argv, true);
}
void rpush_command(CommandContext& ctx, const Args& argv) {
  push_generic(ctx, argv, false);
}

void pop_generic(CommandContext& ctx, const Args& argv, bool front, const char* name) {
  if (argv.size() > 3) return reply_arity_error(ctx, name);
  long long count = 0;
  const bool has_count = argv.size() == 3;
  if (has_count) {
    if (!parse_redis_integer(argv[2], count) || count < 0) {
      add_error(ctx.out, "ERR value is out of range, must be positive");
      return;
    }
  }
  bool wrong_type = false;
  ListValue* l = list_at(ctx, argv[1], false, wrong_type);
  if (wrong_type) return;
  if (!l) return has_count ? add_null_array(ctx.out) : add_null(ctx.out);
  if (has_count && count == 0) return add_array_header(ctx.out, 0);
  if (!has_count) {
    add_bulk(ctx.out, front ? l->pop_front() : l->pop_back());
  } else {
    const std::size_t n = std::min<std::size_t>(l->size(), static_cast<std::size_t>(count));
    add_array_header(ctx.out, n);
    for (std::size_t i = 0; i < n; ++i) add_bulk(ctx.out, front ? l->pop_front() : l->pop_back());
  }
  ctx.keyspace.updated(ctx.client.db, argv[1], *ctx.keyspace.find(ctx.client.db, argv[1]));
}

void lpop_command(CommandContext& ctx, const Args& argv) {
  pop_generic(ctx, argv, true, "lpop");
}
void rpop_command(CommandContext& ctx, const Args& argv) {
  pop_generic(ctx, argv, false, "rpop");
}

void lrange_command(CommandContext& ctx, const Args& argv) {
  long long start = 0, end = 0;
  if (!integer_arg(ctx, argv[2], start) || !integer_arg(ctx, argv[3], end)) return;
  bool wrong_type = false;
  const ListValue* l = list_at(ctx, argv[1], true, wrong_type);
  if (wrong_type) return;
  if (!l) return add_array_header(ctx.out, 0);
  const auto len = static_cast<long long>(l->size());
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return add_array_header(ctx.out, 0);
  if (end >= len) end = len - 1;
  add_array_header(ctx.out, static_cast<std::size_t>(end - start + 1));
  for (long long i = start; i <= end; ++i)
    add_bulk(ctx.out, l->items()[static_cast<std::size_t>(i)]);
}

void llen_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  const ListValue* l = list_at(ctx, argv[1], true, wrong_type);
  if (wrong_type) return;
  add_integer(ctx.out, l ? static_cast<long long>(l->size()) : 0);
}

}  // namespace

void register_list_commands(std::vector<CommandSpec>& t) {
  t.push_back({"lpush", -3, kWrite | kDenyOom | kFast, lpush_command});
  t.push_back({"rpush", -3, kWrite | kDenyOom | kFast, rpush_command});
  t.push_back({"lpop", -2, kWrite | kFast, lpop_command});
  t.push_back({"rpop", -2, kWrite | kFast, rpop_command});
  t.push_back({"lrange", 4, 0, lrange_command});
  t.push_back({"llen", 2, kFast, llen_command});
}

}  // namespace faultline::fakes::redis
