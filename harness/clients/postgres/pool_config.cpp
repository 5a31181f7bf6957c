// PoolConfig: validation, the environment reader and the effective conninfo (see pool_config.h).
#include "harness/clients/postgres/pool_config.h"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include "harness/clients/postgres/pool_state.h"
#include "harness/core/error.h"

namespace faultline::clients {
namespace {

const SourceLocation kConfigLocation{"pool config", 0, 0};

[[noreturn]] void reject(const std::string& problem) {
  throw InputError(kConfigLocation, problem);
}

// The keywords `conninfo` sets, parsed by libpq itself (key=value or postgresql:// URI).
std::set<std::string> conninfo_keys(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    if (error != nullptr) PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    reject("conninfo is not a valid libpq connection string: " + message);
  }
  std::set<std::string> keys;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) keys.insert(o->keyword);
  }
  PQconninfoFree(options);
  return keys;
}

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int env_int(const char* name, int fallback) {
  const auto text = env(name);
  if (!text) return fallback;
  int value = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end) {
    throw InputError(SourceLocation{std::string("environment variable ") + name, 0, 0},
                     "'" + *text + "' is not an integer");
  }
  return value;
}

// A conninfo value in single quotes, as libpq wants it.
std::string conninfo_quoted(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

void PoolConfig::validate() const {
  if (size < 1) reject("size (DB_POOL_SIZE) must be at least 1, got " + std::to_string(size));
  if (max_overflow < 0) {
    reject("max_overflow (DB_MAX_OVERFLOW) must be 0 or more, got " + std::to_string(max_overflow));
  }
  if (timeout.count() <= 0) {
    reject("timeout (DB_POOL_TIMEOUT) must be positive, got " + std::to_string(timeout.count()) +
           " ms");
  }
  if (reconnect_attempts < 0) {
    reject("reconnect_attempts must be 0 or more, got " + std::to_string(reconnect_attempts));
  }
  if (reconnect_backoff.count() < 0) {
    reject("reconnect_backoff must not be negative, got " +
           std::to_string(reconnect_backoff.count()) + " ms");
  }
  if (connect_timeout_seconds < 0) {
    reject("connect_timeout_seconds must not be negative, got " +
           std::to_string(connect_timeout_seconds));
  }
  if (name.empty()) reject("name must not be empty");
  if (conninfo.empty()) reject("conninfo must not be empty");
  const auto keys = conninfo_keys(conninfo);
  if (keys.count("password") != 0) {
    reject("conninfo must not contain a password; set DB_PASSWORD or PGPASSWORD instead");
  }
}

PoolConfig PoolConfig::from_env() {
  PoolConfig config;
  config.size = env_int("DB_POOL_SIZE", config.size);
  config.max_overflow = env_int("DB_MAX_OVERFLOW", config.max_overflow);
  const int timeout_seconds = env_int("DB_POOL_TIMEOUT", 30);
  if (timeout_seconds <= 0) {
    throw InputError(
        SourceLocation{"environment variable DB_POOL_TIMEOUT", 0, 0},
        "must be a positive number of seconds, got " + std::to_string(timeout_seconds));
  }
  config.timeout = std::chrono::seconds(timeout_seconds);
  config.reconnect_attempts = env_int("DB_RECONNECT_ATTEMPTS", config.reconnect_attempts);
  config.reconnect_backoff = std::chrono::milliseconds(env_int("DB_RECONNECT_BACKOFF_MS", 100));
  if (auto whole = env("DATABASE_CONNINFO")) {
    config.conninfo = *whole;
  } else {
    config.conninfo = "host=" + conninfo_quoted(env("DB_HOST").value_or("127.0.0.1")) +
                      " port=" + conninfo_quoted(env("DB_PORT").value_or("5432")) +
                      " user=" + conninfo_quoted(env("DB_USER").value_or("postgres")) +
                      " dbname=" + conninfo_quoted(env("DB_NAME").value_or("postgres"));
  }
  config.validate();
  return config;
}

std::string PoolConfig::effective_conninfo() const {
  const auto keys = conninfo_keys(conninfo);
  std::string out = conninfo;
  // A URI takes extra parameters only in its query string; key=value strings take them appended.
  const bool uri = conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
  auto add = [&](const std::string& key, const std::string& value) {
    if (keys.count(key) != 0) return;
    if (uri) {
      out += (out.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
    } else {
      out += " " + key + "=" + conninfo_quoted(value);
    }
  };
  if (connect_timeout_seconds > 0) add("connect_timeout", std::to_string(connect_timeout_seconds));
  add("application_name", name);
  return out;
}

// The pool calls this at connect time only; the result is never logged or journaled.
std::string conninfo_with_password(const PoolConfig& config) {
  std::string out = config.effective_conninfo();
  const auto password = env("DB_PASSWORD");  // else libpq reads PGPASSWORD itself
  if (!password) return out;
  const bool uri = out.rfind("postgresql://", 0) == 0 || out.rfind("postgres://", 0) == 0;
  if (uri) {
    // Percent-encode for the URI query string.
    std::string encoded;
    static const char* hex = "0123456789ABCDEF";
    for (unsigned char c : *password) {
      if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
        encoded += static_cast<char>(c);
      } else {
        encoded += '%';
        encoded += hex[c >> 4];
        encoded += hex[c & 15];
      }
    }
    return out + (out.find('?') == std::string::npos ? "?" : "&") + "password=" + encoded;
  }
  return out + " password=" + conninfo_quoted(*password);
}

}  // namespace faultline::clients
