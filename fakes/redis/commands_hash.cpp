// Hash commands: HSET HGET HDEL HGETALL HINCRBY HEXISTS HLEN.
#include <climits>
#include <string>

#include "fakes/redis/commands.h"
#include "fakes/redis/resp.h"

namespace faultline::fakes::redis {

namespace {

// The hash under `key`: nullptr if missing; nullptr with WRONGTYPE replied if another type.
HashValue* hash_at(CommandContext& ctx, const std::string& key, bool read, bool& wrong_type) {
  wrong_type = false;
  Entry* e =
      read ? ctx.keyspace.find_read(ctx.client.db, key) : ctx.keyspace.find(ctx.client.db, key);
  if (!e) return nullptr;
  if (auto* h = std::get_if<HashValue>(&e->value)) return h;
  wrong_type = true;
  reply_wrong_type(ctx);
  return nullptr;
}

Entry& hash_for_write(CommandContext& ctx, const std::string& key) {
  if (Entry* e = ctx.keyspace.find(ctx.client.db, key)) return *e;
  return ctx.keyspace.store(ctx.client.db, key, HashValue{});
}

void hset_command(CommandContext& ctx, const Args& argv) {
  if (argv.size() % 2 == 1) return reply_arity_error(ctx, "hset");
  bool wrong_type = false;
  hash_at(ctx, argv[1], false, wrong_type);
  if (wrong_type) return;
  Entry& e = hash_for_write(ctx, argv[1]);
  auto& h = std::get<HashValue>(e.value);
  long long created = 0;
  for (std::size_t i = 2; i + 1 < argv.size(); i += 2) {
    if (h.set(argv[i], argv[i + 1])) ++created;
  }
  ctx.keyspace.updated(ctx.client.db, argv[1], e);
  add_integer(ctx.out, created);
}

void hget_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  const HashValue* h = hash_at(ctx, argv[1], true, wrong_type);
  if (wrong_type) return;
  const std::string* v = h ? h->get(argv[2]) : nullptr;
  if (v) {
    add_bulk(ctx.out, *v);
  } else {
    add_null(ctx.out);
  }
}

void hdel_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  HashValue* h = hash_at(ctx, argv[1], false, wrong_type);
  if (wrong_type) return;
  if (!h) return add_integer(ctx.out, 0);
  long long deleted = 0;
  for (std::size_t i = 2; i < argv.size() && h->size() > 0; ++i) {
    if (h->erase(argv[i])) ++deleted;
  }
  ctx.keyspace.updated(ctx.client.db, argv[1], *ctx.keyspace.find(ctx.client.db, argv[1]));
  add_integer(ctx.out, deleted);
}

void hgetall_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  const HashValue* h = hash_at(ctx, argv[1], true, wrong_type);
  if (wrong_type) return;
  if (!h) return add_array_header(ctx.out, 0);
  add_array_header(ctx.out, h->size() * 2);
  for (const auto& [field, value] : h->fields()) {
    add_bulk(ctx.out, field);
    add_bulk(ctx.out, value);
  }
}

void hincrby_command(CommandContext& ctx, const Args& argv) {
  long long delta = 0;
  if (!integer_arg(ctx, argv[3], delta)) return;
  bool wrong_type = false;
  hash_at(ctx, argv[1], false, wrong_type);
  if (wrong_type) return;
  Entry& e = hash_for_write(ctx, argv[1]);
  auto& h = std::get<HashValue>(e.value);
  long long value = 0;
  if (const std::string* current = h.get(argv[2])) {
    if (!parse_redis_integer(*current, value)) {
      add_error(ctx.out, "ERR hash value is not an integer");
      ctx.keyspace.updated(ctx.client.db, argv[1], e);  // drops a hash created just now
      return;
    }
  }
  if ((delta < 0 && value < 0 && delta < LLONG_MIN - value) ||
      (delta > 0 && value > 0 && delta > LLONG_MAX - value)) {
    add_error(ctx.out, "ERR increment or decrement would overflow");
    ctx.keyspace.updated(ctx.client.db, argv[1], e);
    return;
  }
  value += delta;
  h.set(argv[2], std::to_string(value));
  ctx.keyspace.updated(ctx.client.db, argv[1], e);
  add_integer(ctx.out, value);
}

void hexists_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  const HashValue* h = hash_at(ctx, argv[1], true, wrong_type);
  if (wrong_type) return;
  add_integer(ctx.out, h && h->get(argv[2]) ? 1 : 0);
}

void hlen_command(CommandContext& ctx, const Args& argv) {
  bool wrong_type = false;
  const HashValue* h = hash_at(ctx, argv[1], true, wrong_type);
  if (wrong_type) return;
  add_integer(ctx.out, h ? static_cast<long long>(h->size()) : 0);
}

}  // namespace

void register_hash_commands(std::vector<CommandSpec>& t) {
  t.push_back({"hset", -4, kWrite | kDenyOom | kFast, hset_command});
  t.push_back({"hget", 3, kFast, hget_command});
  t.push_back({"hdel", -3, kWrite | kFast, hdel_command});
  t.push_back({"hgetall", 2, 0, hgetall_command});
  t.push_back({"hincrby", 4, kWrite | kDenyOom | kFast, hincrby_command});
  t.push_back({"hexists", 3, kFast, hexists_command});
  t.push_back({"hlen", 2, kFast, hlen_command});
}

}  // namespace faultline::fakes::redis
