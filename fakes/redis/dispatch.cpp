// execute_command and the helpers every command family shares.
#include <algorithm>
#include <cctype>
#include <utility>

#include "fakes/redis/commands.h"
#include "fakes/redis/resp.h"

namespace faultline::fakes::redis {

namespace {

std::vector<CommandSpec> build_table() {
  std::vector<CommandSpec> table;
  register_string_commands(table);
  register_keys_commands(table);
  register_hash_commands(table);
  register_list_commands(table);
  register_server_commands(table);
  std::sort(table.begin(), table.end(),
            [](const CommandSpec& a, const CommandSpec& b) { return a.name < b.name; });
  return table;
}

// printf's %.*s stops at a NUL byte; redis-server formats these messages with it.
std::string_view c_string(std::string_view s, std::size_t max) {
  if (const auto nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);
  return s.substr(0, std::min(max, s.size()));
}

void reply_unknown_command(CommandContext& ctx, const Args& argv) {
  std::string args;
  for (std::size_t i = 1; i < argv.size() && args.size() < 128; ++i) {
    const std::size_t room = 128 - args.size();  // "'%.*s' " with precision 128 - sdslen(args)
    args += '\'';
    args.append(c_string(argv[i], room));
    args += "' ";
  }
  std::string text = "ERR unknown command '";
  text.append(c_string(argv[0], 128));
  text += "', with args beginning with: ";
  text += args;
  add_error(ctx.out, text);
}

bool glob_impl(const char* pattern, std::size_t plen, const char* str, std::size_t slen,
               bool nocase, bool& skip_longer) {
  const auto eq = [nocase](char a, char b) {
    if (!nocase) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  while (plen && slen) {
    switch (pattern[0]) {
      case '*':
        while (plen > 1 && pattern[1] == '*') {
          ++pattern;
          --plen;
        }
        if (plen == 1) return true;
        while (slen) {
          if (glob_impl(pattern + 1, plen - 1, str, slen, nocase, skip_longer)) return true;
          if (skip_longer) return false;
          ++str;
          --slen;
        }
        skip_longer = true;
        return false;
      case '?':
        ++str;
        --slen;
        break;
      case '[': {
        ++pattern;
        --plen;
        const bool negate = plen && pattern[0] == '^';
        if (negate) {
          ++pattern;
          --plen;
        }
        bool match = false;
        while (true) {
          if (plen == 0) {
            --pattern;
            ++plen;
            break;
          }
          if (pattern[0] == '\\' && plen >= 2) {
            ++pattern;
            --plen;
            if (pattern[0] == str[0]) match = true;
          } else if (pattern[0] == ']') {
            break;
          } else if (plen >= 3 && pattern[1] == '-') {
            int start = static_cast<unsigned char>(pattern[0]);
            int end = static_cast<unsigned char>(pattern[2]);
            int c = static_cast<unsigned char>(str[0]);
            if (start > end) std::swap(start, end);
            if (nocase) {
              start = std::tolower(start);
              end = std::tolower(end);
              c = std::tolower(c);
            }
            pattern += 2;
            plen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (eq(pattern[0], str[0])) {
            match = true;
          }
          ++pattern;
          --plen;
        }
        if (negate) match = !match;
        if (!match) return false;
        ++str;
        --slen;
        break;
      }
      case '\\':
        if (plen >= 2) {
          ++pattern;
          --plen;
        }
        [[fallthrough]];
      default:
        if (!eq(pattern[0], str[0])) return false;
        ++str;
        --slen;
        break;
    }
    ++pattern;
    --plen;
    if (slen == 0) {
      while (plen && *pattern == '*') {
        ++pattern;
        --plen;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

}  // namespace

const std::vector<CommandSpec>& command_table() {
  static const std::vector<CommandSpec> table = build_table();
  return table;
}

const CommandSpec* find_command(std::string_view lower_name) {
  const auto& table = command_table();
  const auto it =
      std::lower_bound(table.begin(), table.end(), lower_name,
                       [](const CommandSpec& s, std::string_view n) { return s.name < n; });
  return it != table.end() && it->name == lower_name ? &*it : nullptr;
}

void execute_command(CommandContext& ctx, const Args& argv) {
  const std::string name = to_lower(argv[0]);
  const CommandSpec* spec = find_command(name);
  if (!spec) {
    reply_unknown_command(ctx, argv);
    return;
  }
  const auto argc = static_cast<int>(argv.size());
  if ((spec->arity > 0 && argc != spec->arity) || argc < -spec->arity) {
    reply_arity_error(ctx, spec->name);
    return;
  }
  ctx.client.last_command_name = spec->name;
  const RedisFaultState& faults = ctx.server.faults;
  if (const auto it = faults.command_errors.find(spec->name); it != faults.command_errors.end()) {
    add_error(ctx.out, it->second);
    return;
  }
  ctx.keyspace.expire_due();
  const bool deny_oom = (spec->flags & kDenyOom) != 0;
  if (ctx.keyspace.maxmemory() > 0) {
    const bool fits = ctx.keyspace.make_room();
    if (!fits && deny_oom) {
      add_error(ctx.out, "OOM command not allowed when used memory > 'maxmemory'.");
      return;
    }
  }
  if (faults.oom && deny_oom) {
    add_error(ctx.out, "OOM command not allowed when used memory > 'maxmemory'.");
    return;
  }
  if (faults.readonly && (spec->flags & kWrite)) {
    add_error(ctx.out, "READONLY You can't write against a read only replica.");
    return;
  }
  if (faults.loading && !(spec->flags & kLoading)) {
    add_error(ctx.out, "LOADING Redis is loading the dataset in memory");
    return;
  }
  ++ctx.server.total_commands;
  spec->handler(ctx, argv);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool integer_arg(CommandContext& ctx, const std::string& arg, long long& out) {
  if (parse_redis_integer(arg, out)) return true;
  add_error(ctx.out, "ERR value is not an integer or out of range");
  return false;
}

void reply_wrong_type(CommandContext& ctx) {
  add_error(ctx.out, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

void reply_syntax_error(CommandContext& ctx) {
  add_error(ctx.out, "ERR syntax error");
}

void reply_arity_error(CommandContext& ctx, std::string_view full_name) {
  add_error(ctx.out, "ERR wrong number of arguments for '" + std::string(full_name) + "' command");
}

bool glob_match(std::string_view pattern, std::string_view text, bool nocase) {
  bool skip_longer = false;
  return glob_impl(pattern.data(), pattern.size(), text.data(), text.size(), nocase, skip_longer);
}

}  // namespace faultline::fakes::redis
