// Connection and server commands: PING ECHO QUIT HELLO INFO CONFIG CLIENT COMMAND.
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "fakes/redis/commands.h"
#include "fakes/redis/resp.h"

namespace faultline::fakes::redis {

namespace {

long long seconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
}

void ping_command(CommandContext& ctx, const Args& argv) {
  if (argv.size() > 2) return reply_arity_error(ctx, "ping");
  if (argv.size() == 2) return add_bulk(ctx.out, argv[1]);
  add_status(ctx.out, "PONG");
}

void echo_command(CommandContext& ctx, const Args& argv) {
  add_bulk(ctx.out, argv[1]);
}

void quit_command(CommandContext& ctx, const Args&) {
  add_status(ctx.out, "OK");
  ctx.close_after_reply = true;
}

void hello_command(CommandContext& ctx, const Args& argv) {
  std::size_t j = 1;
  if (argv.size() >= 2) {
    long long version = 0;
    if (!parse_redis_integer(argv[1], version)) {
      add_error(ctx.out, "ERR Protocol version is not an integer or out of range");
      return;
    }
    // RESP3 is refused with the reply redis-server gives for versions it does not speak, so that
    // clients fall back to RESP2.
    if (version != 2) {
      add_error(ctx.out, "NOPROTO unsupported protocol version");
      return;
    }
    j = 2;
  }
  std::string setname;
  bool has_setname = false;
  for (; j < argv.size(); ++j) {
    const std::size_t more = argv.size() - j - 1;
    if (equals_ignore_case(argv[j], "AUTH") && more >= 2) {
      j += 2;  // the default user has no password: any credentials are accepted
    } else if (equals_ignore_case(argv[j], "SETNAME") && more >= 1) {
      setname = argv[++j];
      has_setname = true;
    } else {
      add_error(ctx.out, "ERR Syntax error in HELLO option '" + argv[j] + "'");
      return;
    }
  }
  if (has_setname) {
    for (char c : setname) {
      if (c < '!' || c > '~') {
        add_error(ctx.out,
                  "ERR Client names cannot contain spaces, newlines or special characters.");
        return;
      }
    }
    ctx.client.name = setname;
  }
  add_array_header(ctx.out, 14);
  add_bulk(ctx.out, "server");
  add_bulk(ctx.out, "redis");
  add_bulk(ctx.out, "version");
  add_bulk(ctx.out, kRedisVersion);
  add_bulk(ctx.out, "proto");
  add_integer(ctx.out, 2);
  add_bulk(ctx.out, "id");
  add_integer(ctx.out, static_cast<long long>(ctx.client.id));
  add_bulk(ctx.out, "mode");
  add_bulk(ctx.out, "standalone");
  add_bulk(ctx.out, "role");
  add_bulk(ctx.out, ctx.server.faults.readonly ? "replica" : "master");
  add_bulk(ctx.out, "modules");
  add_array_header(ctx.out, 0);
}

// --- INFO ---------------------------------------------------------------------------------

void info_line(std::string& s, const char* key, const std::string& value) {
  s += key;
  s += ':';
  s += value;
  s += "\r\n";
}

std::string info_section(CommandContext& ctx, const std::string& name) {
  ServerState& server = ctx.server;
  Keyspace& ks = ctx.keyspace;
  const TimePoint now = ks.clock().now();
  std::string s;
  if (name == "server") {
    s += "# Server\r\n";
    info_line(s, "redis_version", kRedisVersion);
    info_line(s, "redis_mode", "standalone");
    info_line(s, "faultline_fake", "1");  // says plainly that this is not redis-server
    info_line(s, "process_id", std::to_string(::getpid()));
    info_line(s, "tcp_port", std::to_string(server.tcp_port));
    info_line(s, "uptime_in_seconds", std::to_string(seconds_between(server.started, now)));
  } else if (name == "clients") {
    s += "# Clients\r\n";
    info_line(s, "connected_clients", std::to_string(server.clients.size()));
    info_line(s, "blocked_clients", "0");
  } else if (name == "memory") {
    s += "# Memory\r\n";
    info_line(s, "used_memory", std::to_string(ks.used_memory()));
    info_line(s, "maxmemory", std::to_string(ks.maxmemory()));
    info_line(s, "maxmemory_policy", policy_name(ks.policy()));
  } else if (name == "persistence") {
    s += "# Persistence\r\n";
    info_line(s, "loading", server.faults.loading ? "1" : "0");
  } else if (name == "stats") {
    s += "# Stats\r\n";
    info_line(s, "total_connections_received", std::to_string(server.total_connections));
    info_line(s, "total_commands_processed", std::to_string(server.total_commands));
    info_line(s, "rejected_connections", std::to_string(server.rejected_connections));
    info_line(s, "expired_keys", std::to_string(ks.stats().expired));
    info_line(s, "evicted_keys", std::to_string(ks.stats().evicted));
    info_line(s, "keyspace_hits", std::to_string(ks.stats().hits));
    info_line(s, "keyspace_misses", std::to_string(ks.stats().misses));
  } else if (name == "replication") {
    s += "# Replication\r\n";
    info_line(s, "role", server.faults.readonly ? "slave" : "master");
    info_line(s, "connected_slaves", "0");
  } else if (name == "keyspace") {
    s += "# Keyspace\r\n";
    for (int db = 0; db < ks.databases(); ++db) {
      if (ks.size(db) == 0) continue;
      char line[128];
      std::snprintf(line, sizeof line, "keys=%zu,expires=%zu,avg_ttl=0", ks.size(db),
                    ks.volatile_size(db));
      info_line(s, ("db" + std::to_string(db)).c_str(), line);
    }
  }
  return s;
}

void info_command(CommandContext& ctx, const Args& argv) {
  static const std::vector<std::string> kDefault = {
      "server", "clients", "memory", "persistence", "stats", "replication", "keyspace"};
  std::vector<std::string> wanted;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string name = to_lower(argv[i]);
    if (name == "all" || name == "default" || name == "everything") {
      wanted.insert(wanted.end(), kDefault.begin(), kDefault.end());
    } else {
      wanted.push_back(name);
    }
  }
  if (wanted.empty()) wanted = kDefault;
  std::string text;
  std::vector<std::string> done;
  for (const auto& name : wanted) {
    if (std::find(done.begin(), done.end(), name) != done.end()) continue;
    done.push_back(name);
    std::string section = info_section(ctx, name);
    if (section.empty()) continue;
    if (!text.empty()) text += "\r\n";
    text += section;
  }
  add_bulk(ctx.out, text);
}

// --- CONFIG -------------------------------------------------------------------------------

// Redis's memtoull: a number with an optional unit b, k, kb, m, mb, g, gb (any case).
bool parse_memory(const std::string& text, unsigned long long& out) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 19) return false;
  const std::string unit = to_lower(text.substr(digits));
  unsigned long long mul = 1;
  if (unit.empty() || unit == "b")
    mul = 1;
  else if (unit == "k")
    mul = 1000;
  else if (unit == "kb")
    mul = 1024;
  else if (unit == "m")
    mul = 1000ULL * 1000;
  else if (unit == "mb")
    mul = 1024ULL * 1024;
  else if (unit == "g")
    mul = 1000ULL * 1000 * 1000;
  else if (unit == "gb")
    mul = 1024ULL * 1024 * 1024;
  else
    return false;
  const unsigned long long n = std::stoull(text.substr(0, digits));
  if (n > ~0ULL / mul) return false;
  out = n * mul;
  return true;
}

std::vector<std::pair<std::string, std::string>> config_values(CommandContext& ctx) {
  Keyspace& ks = ctx.keyspace;
  return {{"maxmemory", std::to_string(ks.maxmemory())},
          {"maxmemory-policy", policy_name(ks.policy())},
          {"maxmemory-samples", std::to_string(ks.samples())},
          {"databases", std::to_string(ks.databases())},
          {"port", std::to_string(ctx.server.tcp_port)},
          {"save", ""},
          {"appendonly", "no"}};
}

void config_get(CommandContext& ctx, const Args& argv) {
  if (argv.size() < 3) return reply_arity_error(ctx, "config|get");
  std::vector<std::pair<std::string, std::string>> found;
  for (const auto& [name, value] : config_values(ctx)) {
    for (std::size_t i = 2; i < argv.size(); ++i) {
      if (glob_match(argv[i], name, true)) {
        found.emplace_back(name, value);
        break;
      }
    }
  }
  add_array_header(ctx.out, found.size() * 2);
  for (const auto& [name, value] : found) {
    add_bulk(ctx.out, name);
    add_bulk(ctx.out, value);
  }
}

void config_set(CommandContext& ctx, const Args& argv) {
  if (argv.size() < 4 || argv.size() % 2 == 1) return reply_arity_error(ctx, "config|set");
  Keyspace& ks = ctx.keyspace;
  // Validate every pair before applying any, as redis-server does.
  std::optional<unsigned long long> maxmemory;
  std::optional<EvictionPolicy> policy;
  std::optional<long long> samples;
  for (std::size_t i = 2; i + 1 < argv.size(); i += 2) {
    const std::string name = to_lower(argv[i]);
    const std::string& value = argv[i + 1];
    const std::string failed =
        "ERR CONFIG SET failed (possibly related to argument '" + name + "') - ";
    if (name == "maxmemory") {
      unsigned long long bytes = 0;
      if (!parse_memory(value, bytes)) {
        return add_error(ctx.out, failed + "argument must be a memory value");
      }
      maxmemory = bytes;
    } else if (name == "maxmemory-policy") {
      policy = parse_policy(to_lower(value));
      if (!policy) {
        const std::string v = to_lower(value);
        if (v == "allkeys-lfu" || v == "volatile-lfu") {
          return add_error(ctx.out,
                           failed + "the faultline Redis fake does not model LFU policies");
        }
        return add_error(ctx.out, failed +
                                      "argument(s) must be one of the following: volatile-lru, "
                                      "volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, "
                                      "allkeys-lfu, allkeys-random, noeviction");
      }
    } else if (name == "maxmemory-samples") {
      long long n = 0;
      if (!parse_redis_integer(value, n)) {
        return add_error(ctx.out, failed + "argument couldn't be parsed into an integer");
      }
      if (n < 1 || n > 64) {
        return add_error(ctx.out, failed + "argument must be between 1 and 64 inclusive");
      }
      samples = n;
    } else {
      return add_error(
          ctx.out, "ERR Unknown option or number of arguments for CONFIG SET - '" + argv[i] + "'");
    }
  }
  if (maxmemory) ks.set_maxmemory(*maxmemory);
  if (policy) ks.set_policy(*policy);
  if (samples) ks.set_samples(static_cast<int>(*samples));
  add_status(ctx.out, "OK");
}

void config_resetstat(CommandContext& ctx, const Args&) {
  ctx.keyspace.stats() = KeyspaceStats{};
  ctx.server.total_commands = 0;
  ctx.server.total_connections = 0;
  ctx.server.rejected_connections = 0;
  add_status(ctx.out, "OK");
}

void unknown_subcommand(CommandContext& ctx, const std::string& sub, const char* command) {
  add_error(ctx.out,
            "ERR unknown subcommand '" + sub.substr(0, 128) + "'. Try " + command + " HELP.");
}

void config_command(CommandContext& ctx, const Args& argv) {
  const std::string sub = to_lower(argv[1]);
  if (sub == "get") return config_get(ctx, argv);
  if (sub == "set") return config_set(ctx, argv);
  if (sub == "resetstat") {
    if (argv.size() != 2) return reply_arity_error(ctx, "config|resetstat");
    return config_resetstat(ctx, argv);
  }
  unknown_subcommand(ctx, argv[1], "CONFIG");
}

// --- CLIENT -------------------------------------------------------------------------------

std::string describe_client(const ServerState& server, const ClientInfo& c, TimePoint now,
                            bool self) {
  char line[512];
  std::snprintf(line, sizeof line,
                "id=%llu addr=%s laddr=%s fd=8 name=%s age=%lld idle=%lld flags=N db=%d sub=0 "
                "psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 "
                "obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=default redir=-1 resp=2\n",
                static_cast<unsigned long long>(c.id), c.addr.c_str(), c.laddr.c_str(),
                c.name.c_str(), seconds_between(c.created, now),
                self ? 0LL : seconds_between(c.last_command, now), c.db,
                self ? "client|list" : c.last_command_name.c_str());
  (void)server;
  return line;
}

void client_command(CommandContext& ctx, const Args& argv) {
  const std::string sub = to_lower(argv[1]);
  if (sub == "setname") {
    if (argv.size() != 3) return reply_arity_error(ctx, "client|setname");
    for (char c : argv[2]) {
      if (c < '!' || c > '~') {
        return add_error(ctx.out,
                         "ERR Client names cannot contain spaces, newlines or special characters.");
      }
    }
    ctx.client.name = argv[2];
    return add_status(ctx.out, "OK");
  }
  if (sub == "getname") {
    if (argv.size() != 2) return reply_arity_error(ctx, "client|getname");
    return ctx.client.name.empty() ? add_null(ctx.out) : add_bulk(ctx.out, ctx.client.name);
  }
  if (sub == "id") {
    if (argv.size() != 2) return reply_arity_error(ctx, "client|id");
    return add_integer(ctx.out, static_cast<long long>(ctx.client.id));
  }
  if (sub == "list") {
    if (argv.size() != 2) {
      return add_error(ctx.out,
                       "ERR the faultline Redis fake supports CLIENT LIST without options");
    }
    const TimePoint now = ctx.keyspace.clock().now();
    std::string text;
    for (const ClientInfo* c : ctx.server.clients) {
      text += describe_client(ctx.server, *c, now, c == &ctx.client);
    }
    return add_bulk(ctx.out, text);
  }
  unknown_subcommand(ctx, argv[1], "CLIENT");
}

// --- COMMAND ------------------------------------------------------------------------------

void command_entry(std::string& out, const CommandSpec& spec) {
  add_array_header(out, 10);
  add_bulk(out, spec.name);
  add_integer(out, spec.arity);
  std::vector<const char*> flags;
  if (spec.flags & kWrite) flags.push_back("write");
  if (!(spec.flags & kWrite)) flags.push_back("readonly");
  if (spec.flags & kDenyOom) flags.push_back("denyoom");
  if (spec.flags & kLoading) flags.push_back("loading");
  if (spec.flags & kFast) flags.push_back("fast");
  add_array_header(out, flags.size());
  for (const char* f : flags) add_status(out, f);
  add_integer(out, 0);  // key positions are not modelled
  add_integer(out, 0);
  add_integer(out, 0);
  for (int i = 0; i < 4; ++i) add_array_header(out, 0);  // categories, tips, key specs, subcommands
}

void command_command(CommandContext& ctx, const Args& argv) {
  const auto& table = command_table();
  if (argv.size() == 1) {
    add_array_header(ctx.out, table.size());
    for (const auto& spec : table) command_entry(ctx.out, spec);
    return;
  }
  const std::string sub = to_lower(argv[1]);
  if (sub == "count") {
    if (argv.size() != 2) return reply_arity_error(ctx, "command|count");
    return add_integer(ctx.out, static_cast<long long>(table.size()));
  }
  if (sub == "info") {
    add_array_header(ctx.out, argv.size() - 2);
    for (std::size_t i = 2; i < argv.size(); ++i) {
      const CommandSpec* spec = find_command(to_lower(argv[i]));
      if (spec) {
        command_entry(ctx.out, *spec);
      } else {
        add_null_array(ctx.out);
      }
    }
    return;
  }
  if (sub == "docs") return add_array_header(ctx.out, 0);  // redis-cli then uses its own help
  unknown_subcommand(ctx, argv[1], "COMMAND");
}

}  // namespace

void register_server_commands(std::vector<CommandSpec>& t) {
  t.push_back({"ping", -1, kFast, ping_command});
  t.push_back({"echo", 2, kFast, echo_command});
  t.push_back({"quit", -1, kLoading | kFast, quit_command});
  t.push_back({"hello", -1, kLoading | kFast, hello_command});
  t.push_back({"info", -1, kLoading, info_command});
  t.push_back({"config", -2, kLoading, config_command});
  t.push_back({"client", -2, kLoading, client_command});
  t.push_back({"command", -1, kLoading, command_command});
}

}  // namespace faultline::fakes::redis
