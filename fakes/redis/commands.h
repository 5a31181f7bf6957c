// The command table of the Redis fake and what a command runs against.
//
// A command is a function of (CommandContext, argv) that appends exactly one RESP2 reply to
// `ctx.out`. `execute_command` does what redis-server's processCommand does before calling it, in
// the same order and with the same error texts: unknown command, arity, the injected
// `command_error` fault, eviction and -OOM for commands that may grow memory, -READONLY for writes,
// -LOADING. Families live in commands_{string,keys,hash,list,server}.cpp; each registers its
// entries through `register_*_commands`.
//
// Thread safety: none; commands run on the fake's event-loop thread.
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/redis/faults.h"
#include "fakes/redis/keyspace.h"
#include "harness/core/clock.h"

namespace faultline::fakes::redis {

// The version the fake answers as: its error texts and behaviour follow redis-server 7.0.
inline constexpr const char* kRedisVersion = "7.0.15";

// One client connection, as CLIENT and INFO see it.
struct ClientInfo {
  std::uint64_t id = 0;
  std::string name;
  std::string addr;   // peer "ip:port" or unix path
  std::string laddr;  // local address
  int db = 0;
  TimePoint created{};
  TimePoint last_command{};
  std::string last_command_name = "NULL";
};

// What commands know about the server as a whole.
struct ServerState {
  Keyspace* keyspace = nullptr;
  RedisFaultState faults;
  std::vector<const ClientInfo*> clients;  // connected, in connection order
  TimePoint started{};
  std::uint16_t tcp_port = 0;
  std::uint64_t total_connections = 0;
  std::uint64_t total_commands = 0;
  std::uint64_t rejected_connections = 0;
};

struct CommandContext {
  ServerState& server;
  Keyspace& keyspace;
  ClientInfo& client;
  std::string& out;
  bool close_after_reply = false;  // QUIT
};

using Args = std::vector<std::string>;
using CommandHandler = void (*)(CommandContext&, const Args&);

enum CommandFlag : unsigned {
  kWrite = 1u << 0,    // refused with -READONLY on a read-only replica
  kDenyOom = 1u << 1,  // may grow memory: refused with -OOM when over maxmemory
  kLoading = 1u << 2,  // allowed while the dataset is loading
  kFast = 1u << 3,
};

struct CommandSpec {
  std::string name;  // lower case
  int arity = 0;     // as redis-server counts it: -N means at least N
  unsigned flags = 0;
  CommandHandler handler = nullptr;
};

// The table, sorted by name.
const std::vector<CommandSpec>& command_table();
const CommandSpec* find_command(std::string_view lower_name);

// Runs one request; `argv` is non-empty.
void execute_command(CommandContext& ctx, const Args& argv);

// Families.
void register_string_commands(std::vector<CommandSpec>& table);
void register_keys_commands(std::vector<CommandSpec>& table);
void register_hash_commands(std::vector<CommandSpec>& table);
void register_list_commands(std::vector<CommandSpec>& table);
void register_server_commands(std::vector<CommandSpec>& table);

// Helpers shared by the families.
std::string to_lower(std::string_view s);
bool equals_ignore_case(std::string_view a, std::string_view b);
// Parses a Redis integer argument; on failure replies "ERR value is not an integer or out of
// range" and returns false.
bool integer_arg(CommandContext& ctx, const std::string& arg, long long& out);
// The latest deadline a key may have, in milliseconds of the Clock: its TimePoint counts
// nanoseconds, so ~292 years from its epoch (redis-server's millisecond deadlines reach further;
// a TTL beyond this one is refused as an invalid expire time, see KNOWN_LIMITATIONS.yaml).
inline constexpr long long kMaxDeadlineMs = LLONG_MAX / 1'000'000;
void reply_wrong_type(CommandContext& ctx);
void reply_syntax_error(CommandContext& ctx);
void reply_arity_error(CommandContext& ctx, std::string_view full_name);
// Redis glob matching (stringmatchlen): * ? [abc] [^a-z] and backslash escapes.
bool glob_match(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace faultline::fakes::redis
