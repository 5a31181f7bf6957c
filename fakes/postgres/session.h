// Session: one client connection's PostgreSQL v3 protocol state machine, independent of sockets.
//
// Bytes from the client go in through `receive`; replies go out through the SessionIo the
// connection provides, which also closes the connection and runs delays on the harness clock.
// The session handles SSLRequest/GSSENCRequest ('N'), startup, trust/cleartext/md5 auth,
// CancelRequest (handed to the host), the simple query protocol and the extended protocol
// (Parse/Bind/Describe/Execute/Sync/Close/Flush), and keeps the transaction state reported in
// ReadyForQuery. A statement delayed by pg_sleep or a slow-query fault holds every later message
// until its delay ends or a CancelRequest cancels it (57014). Protocol violations end the session
// with FATAL 08P01; nothing a client sends can make it read out of bounds or wait forever.
//
// Thread safety: none. A session and its host are used from the fake's loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fakes/postgres/executor.h"
#include "fakes/postgres/sql_error.h"
#include "fakes/postgres/sql_parse.h"
#include "fakes/postgres/wire.h"

namespace faultline::pg {

class Session;

enum class AuthMethod { trust, password, md5 };

// What a fault rule does to a statement whose text matches it.
struct QueryFaultAction {
  std::chrono::nanoseconds delay{0};  // run the statement after this long
  std::optional<SqlError> error;      // or fail it with this error
};

// The fake as a session sees it.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual ServerContext& sql() = 0;
  virtual AuthMethod auth_method() const = 0;
  // The password of `user`; nullopt if the role does not exist (in trust mode with no users
  // configured, every role exists).
  virtual std::optional<std::string> password_of(const std::string& user) const = 0;
  virtual bool database_exists(const std::string& name) const = 0;
  virtual std::size_t max_message_bytes() const = 0;
  // Called once startup is complete; returns an error (53300) to refuse the session.
  virtual std::optional<SqlError> admit(Session& session) = 0;
  virtual void leave(Session& session) = 0;
  // A CancelRequest for backend `pid` with `key`.
  virtual void cancel(std::int32_t pid, std::int32_t key) = 0;
  virtual QueryFaultAction query_fault(const std::string& statement) = 0;
  // Process id and secret for BackendKeyData; the md5 salt.
  virtual std::int32_t next_pid() = 0;
  virtual std::uint32_t random32() = 0;
};

// How a session reaches its connection.
class SessionIo {
 public:
  virtual ~SessionIo() = default;
  virtual void send(std::string bytes) = 0;
  // Closes the connection after what was sent (idempotent).
  virtual void close() = 0;
  // Runs `fn` after `delay` on the harness clock, on the loop thread, unless cancelled first.
  virtual std::uint64_t schedule(std::chrono::nanoseconds delay, std::function<void()> fn) = 0;
  virtual void cancel_scheduled(std::uint64_t id) = 0;
};

class Session {
 public:
  Session(SessionHost& host, SessionIo& io);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Feeds bytes from the client and processes every complete message that can run now.
  void receive(std::string_view bytes);
  // The client went away: roll back, leave the host.
  void disconnected();
  // A CancelRequest matched this session: cancels a statement waiting on a delay.
  void cancel_statement();
  // Sends a FATAL error (e.g. 57P01 on admin shutdown) and closes.
  void terminate(const SqlError& error);
  // Closes without a word and forgets the transaction (a crash).
  void drop();

  std::int32_t pid() const { return pid_; }
  std::int32_t secret() const { return secret_; }
  bool ready() const { return phase_ == Phase::ready; }
  const SessionSql& sql() const { return sql_; }
  const std::string& application_name() const { return application_name_; }
  const std::string& last_query() const { return last_query_; }
  bool busy() const { return busy_; }

 private:
  enum class Phase { startup, auth, ready, closed };
  struct Prepared {
    std::vector<ParsedStatement> statements;  // 0 or 1
    std::vector<Type> param_types;
  };
  struct Portal {
    std::shared_ptr<Prepared> prepared;
    std::vector<Value> params;
    std::optional<StatementResult> pending;  // a suspended portal's remaining rows
    std::size_t sent = 0;
  };
  // A statement waiting to run or to deliver its result.
  struct Job {
    std::vector<ParsedStatement> statements;
    std::size_t next = 0;
    bool extended = false;  // Execute: no RowDescription, portal bookkeeping
    std::string portal;
    std::int32_t max_rows = 0;
    std::vector<Value> params;
    bool fault_checked = false;
    std::optional<StatementResult> delayed_result;
  };

  void pump();
  void handle_startup(const std::string& body);
  void handle_password(const std::string& body);
  void finish_startup();
  void handle(const Frame& frame);
  void parse(const std::string& body);
  void bind(const std::string& body);
  void describe(const std::string& body);
  void execute(const std::string& body);
  void sync();
  void close_object(const std::string& body);
  void start_simple_query(const std::string& sql);
  // Runs the current job's statements until done or waiting on a delay.
  void run_job();
  void finish_job(bool success);
  void send_result(const StatementResult& r, bool row_description, std::size_t first_row,
                   std::size_t max_rows);
  void send_row_description(const std::vector<ResultColumn>& columns);
  void send_error(const SqlError& e, const char* severity = "ERROR");
  void send_notice(const Notice& n);
  void send_parameter_status(const std::string& name, const std::string& value);
  void send_ready();
  void statement_failed(const SqlError& e, bool extended);
  void fatal(const SqlError& e);
  void flush();

  SessionHost& host_;
  SessionIo& io_;
  FrameReader reader_;
  MessageWriter out_;
  Phase phase_ = Phase::startup;
  SessionSql sql_;
  Executor executor_;
  std::string application_name_;
  std::string last_query_;
  std::int32_t pid_ = 0;
  std::int32_t secret_ = 0;
  std::uint32_t salt_ = 0;
  bool admitted_ = false;
  bool skip_until_sync_ = false;
  bool busy_ = false;  // a job is running or waiting
  std::optional<Job> job_;
  std::optional<std::uint64_t> timer_;
  std::map<std::string, std::shared_ptr<Prepared>> prepared_;
  std::map<std::string, Portal> portals_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace faultline::pg
