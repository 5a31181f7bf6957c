// PostgresFake: an in-process PostgreSQL 15 server (v3 wire protocol) with fault controls.
//
// It listens on a loopback TCP port (0: an ephemeral one) on the shared EventLoop and serves
// libpqxx, libpq and psql over the SQL subset described in executor.h, over one in-memory Catalog
// (every database name shares it). Faults are switched through this class (or its HTTP control
// endpoint, control_server.h), land between two protocol messages, and are journaled when a
// Journal is given:
//   max_connections   further sessions get FATAL 53300 "sorry, too many clients already"
//   refuse            the listener is closed: connect() fails with ECONNREFUSED
//   crash             every connection dropped without a word, uncommitted work lost, committed
//                     work kept, connections refused for a while on the harness clock
//   admin shutdown    every session gets FATAL 57P01, then (optionally) refused for a while
//   read-only         writes fail with 25006
//   slow queries      statements matching a regex wait on the harness clock before running
//   query errors      statements matching a regex fail with the given SQLSTATE
// `dump` writes the catalog as SQL text a real server can load too; `load` replaces the catalog.
//
// Thread safety: every member function may be called from any thread except the destructor,
// which must not run on the loop thread; work is done on the loop thread via post_and_wait.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "fakes/postgres/session.h"

namespace faultline {
class Clock;
class EventLoop;
class Journal;
}  // namespace faultline

namespace faultline::pg {

class Connection;

struct PostgresFakeOptions {
  std::string host = "127.0.0.1";  // loopback only: 127.0.0.0/8 or ::1
  std::uint16_t port = 0;          // 0: ephemeral
  AuthMethod auth = AuthMethod::trust;
  // Roles and their passwords. Empty with trust auth: every role name is accepted.
  std::map<std::string, std::string> users;
  std::set<std::string> databases;  // empty: every database name is accepted
  int max_connections = 100;
  std::size_t max_message_bytes = 16u << 20;  // larger messages: FATAL 08P01, connection closed
  std::uint64_t seed = 0;                     // backend pids, cancel keys, md5 salts
  Journal* journal = nullptr;                 // faults are recorded here when set
};

class PostgresFake {
 public:
  PostgresFake(EventLoop& loop, Clock& clock, PostgresFakeOptions options = {});
  ~PostgresFake();
  PostgresFake(const PostgresFake&) = delete;
  PostgresFake& operator=(const PostgresFake&) = delete;

  // Binds and starts accepting. Throws Error if the address cannot be bound or is not loopback.
  void start();
  // Closes the listener and every connection. Idempotent.
  void stop();
  std::uint16_t port() const;
  // "host=127.0.0.1 port=N user=U dbname=D" for libpq.
  std::string connection_string(const std::string& user = "postgres",
                                const std::string& database = "postgres") const;

  // --- faults (each heals by the matching call, or by heal_all) ---
  void set_max_connections(int limit);
  void reset_max_connections();  // back to options.max_connections
  void set_refuse_connections(bool refuse);
  void set_read_only(bool read_only);
  // `pattern` is an ECMAScript regex searched (case-insensitively) in each statement's text.
  // Throws InputError on a bad pattern. Returns the rule's id.
  std::uint64_t add_slow_query(const std::string& pattern, std::chrono::nanoseconds delay);
  std::uint64_t add_query_error(const std::string& pattern, const std::string& sqlstate,
                                const std::string& message, bool fatal = false);
  bool remove_query_rule(std::uint64_t id);
  void crash(std::chrono::nanoseconds refuse_for);
  void admin_shutdown(std::chrono::nanoseconds refuse_for = std::chrono::nanoseconds(0));
  // Back to normal: no rules, accepting, writable, max_connections as configured.
  void heal_all();

  // --- state ---
  std::size_t session_count() const;     // sessions past startup
  std::size_t connection_count() const;  // open TCP connections
  nlohmann::json status() const;
  std::string dump() const;
  void load(const std::string& sql);

 private:
  friend class Connection;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace faultline::pg
