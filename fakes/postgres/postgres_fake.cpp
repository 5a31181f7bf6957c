#include "fakes/postgres/postgres_fake.h"

#include <deque>
#include <regex>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "fakes/postgres/dump.h"
#include "harness/core/clock.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"
#include "harness/core/rng.h"

namespace faultline::pg {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::nanoseconds;

namespace {

struct QueryRule {
  std::uint64_t id = 0;
  std::string pattern;
  std::regex regex;
  nanoseconds delay{0};
  std::optional<SqlError> error;
};

}  // namespace

// One TCP connection: socket I/O for one Session.
class Connection : public SessionIo, public std::enable_shared_from_this<Connection> {
 public:
  Connection(PostgresFake::Impl& fake, tcp::socket socket, std::uint64_t id);
  void start();
  void send(std::string bytes) override;
  void close() override;
  std::uint64_t schedule(nanoseconds delay, std::function<void()> fn) override;
  void cancel_scheduled(std::uint64_t id) override;
  // Closes the socket now, discarding unsent replies (a crash).
  void abort();
  Session& session() { return *session_; }
  std::uint64_t id() const { return id_; }

 private:
  void read();
  void write_next();
  void finished();

  PostgresFake::Impl& fake_;
  tcp::socket socket_;
  std::uint64_t id_;
  std::unique_ptr<Session> session_;
  std::array<char, 16384> buffer_{};
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool closing_ = false;
  bool done_ = false;
};

struct PostgresFake::Impl : SessionHost, std::enable_shared_from_this<PostgresFake::Impl> {
  Impl(EventLoop& loop, Clock& clock, PostgresFakeOptions options)
      : loop(loop), clock(clock), options(std::move(options)), rng(this->options.seed) {
    ctx.catalog = &catalog;
    ctx.clock = &clock;
    ctx.max_connections = this->options.max_connections;
    max_connections = this->options.max_connections;
    ctx.activity = [this] { return activity(); };
  }

  // --- SessionHost ---
  ServerContext& sql() override { return ctx; }
  AuthMethod auth_method() const override { return options.auth; }
  std::optional<std::string> password_of(const std::string& user) const override {
    auto it = options.users.find(user);
    if (it != options.users.end()) return it->second;
    if (options.users.empty() && options.auth == AuthMethod::trust) return std::string();
    return std::nullopt;
  }
  bool database_exists(const std::string& name) const override {
    return options.databases.empty() || options.databases.count(name) > 0;
  }
  std::size_t max_message_bytes() const override { return options.max_message_bytes; }
  std::optional<SqlError> admit(Session& session) override {
    if (static_cast<int>(sessions.size()) >= max_connections) {
      SqlError e("53300", "sorry, too many clients already");
      e.fatal = true;
      return e;
    }
    sessions[session.pid()] = &session;
    return std::nullopt;
  }
  void leave(Session& session) override { sessions.erase(session.pid()); }
  void cancel(std::int32_t pid, std::int32_t key) override {
    auto it = sessions.find(pid);
    if (it != sessions.end() && it->second->secret() == key) it->second->cancel_statement();
  }
  QueryFaultAction query_fault(const std::string& statement) override {
    QueryFaultAction action;
    for (const QueryRule& rule : rules) {
      if (!std::regex_search(statement, rule.regex)) continue;
      if (rule.error) {
        action.error = rule.error;
        return action;
      }
      action.delay += rule.delay;
    }
    return action;
  }
  std::int32_t next_pid() override { return next_backend_pid++; }
  std::uint32_t random32() override { return static_cast<std::uint32_t>(rng.next()); }

  std::vector<Activity> activity() const {
    std::vector<Activity> out;
    for (const auto& [pid, s] : sessions) {
      Activity a;
      a.pid = pid;
      a.datname = s->sql().database;
      a.usename = s->sql().user;
      a.application_name = s->application_name();
      a.backend_type = "client backend";
      a.query = s->last_query();
      if (s->busy()) {
        a.state = "active";
      } else if (s->sql().state == TxnState::in_block) {
        a.state = "idle in transaction";
      } else if (s->sql().state == TxnState::failed) {
        a.state = "idle in transaction (aborted)";
      } else {
        a.state = "idle";
      }
      out.push_back(a);
    }
    // The background processes a PostgreSQL 15 server lists too.
    int pid = 1;
    for (const char* type : {"autovacuum launcher", "logical replication launcher",
                             "background writer", "checkpointer", "walwriter"}) {
      Activity a;
      a.pid = pid++;
      a.backend_type = type;
      a.query = "";
      if (std::string(type) == "logical replication launcher") a.usename = "postgres";
      out.push_back(a);
    }
    return out;
  }

  // --- listener ---
  void open_listener() {
    if (acceptor) return;
    auto address = asio::ip::make_address(options.host);
    if (!address.is_loopback())
      throw Error("the fake listens on loopback only, not " + options.host);
    tcp::endpoint endpoint(address, bound_port);
    auto a = std::make_unique<tcp::acceptor>(loop.context());
    a->open(endpoint.protocol());
    a->set_option(tcp::acceptor::reuse_address(true));
    a->bind(endpoint);
    a->listen();
    bound_port = a->local_endpoint().port();
    acceptor = std::move(a);
    accept();
  }
  void close_listener() {
    if (!acceptor) return;
    boost::system::error_code ec;
    acceptor->close(ec);
    acceptor.reset();
  }
  void accept() {
    acceptor->async_accept([self = shared_from_this(), a = acceptor.get()](
                               const boost::system::error_code& ec, tcp::socket socket) {
      if (ec || self->acceptor.get() != a) return;
      socket.set_option(tcp::no_delay(true));
      auto c = std::make_shared<Connection>(*self, std::move(socket), self->next_connection++);
      self->connections[c->id()] = c;
      c->start();
      self->accept();
    });
  }
  // Re-opens the listener after `delay` unless refusing on purpose by then.
  void reopen_after(nanoseconds delay) {
    const std::uint64_t generation = ++refuse_generation;
    std::weak_ptr<Impl> weak = shared_from_this();
    clock.call_after(delay, [weak, generation] {
      auto self = weak.lock();
      if (!self) return;
      self->loop.post([weak, generation] {
        auto self = weak.lock();
        if (!self || self->stopped || self->refusing || generation != self->refuse_generation)
          return;
        try {
          self->open_listener();
          self->journal("fault.heal", "refuse-window", {});
        } catch (const std::exception& e) {
          log::error("fake.postgres", "could not listen again", {{"error", e.what()}});
        }
      });
    });
  }
  void journal(const char* kind, const std::string& subject, nlohmann::json fields) {
    if (options.journal) options.journal->append(kind, "postgres/" + subject, std::move(fields));
  }

  EventLoop& loop;
  Clock& clock;
  PostgresFakeOptions options;
  Rng rng;
  Catalog catalog;
  ServerContext ctx;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::uint16_t bound_port = 0;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;
  std::map<std::int32_t, Session*> sessions;
  std::uint64_t next_connection = 1;
  std::int32_t next_backend_pid = 10000;
  int max_connections = 100;
  bool refusing = false;
  bool stopped = false;
  std::uint64_t refuse_generation = 0;
  std::vector<QueryRule> rules;
  std::uint64_t next_rule = 1;
};

Connection::Connection(PostgresFake::Impl& fake, tcp::socket socket, std::uint64_t id)
    : fake_(fake), socket_(std::move(socket)), id_(id) {
  session_ = std::make_unique<Session>(fake_, *this);
}

void Connection::start() {
  read();
}

void Connection::read() {
  socket_.async_read_some(
      asio::buffer(buffer_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        if (self->done_) return;
        if (ec) {
          self->session_->disconnected();
          self->finished();
          return;
        }
        self->session_->receive(std::string_view(self->buffer_.data(), n));
        if (!self->closing_ && !self->done_) self->read();
      });
}

void Connection::send(std::string bytes) {
  if (done_) return;
  outbox_.push_back(std::move(bytes));
  if (!writing_) write_next();
}

void Connection::write_next() {
  if (outbox_.empty()) {
    writing_ = false;
    if (closing_) finished();
    return;
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(outbox_.front()),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      if (self->done_) return;
                      self->outbox_.pop_front();
                      if (ec) {
                        self->session_->disconnected();
                        self->finished();
                        return;
                      }
                      self->write_next();
                    });
}

void Connection::close() {
  if (closing_ || done_) return;
  closing_ = true;
  if (!writing_) {
    // Let the current handler return before the session is destroyed.
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (!self->writing_) self->finished();
    });
  }
}

void Connection::abort() {
  outbox_.clear();
  session_->drop();
  finished();
}

void Connection::finished() {
  if (done_) return;
  done_ = true;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  // Destroy the connection (and its session) outside the handler that got here.
  asio::post(fake_.loop.context(),
             [impl = fake_.shared_from_this(), id = id_] { impl->connections.erase(id); });
}

std::uint64_t Connection::schedule(nanoseconds delay, std::function<void()> fn) {
  std::weak_ptr<Connection> weak = shared_from_this();
  EventLoop* loop = &fake_.loop;
  return fake_.clock.call_after(delay, [weak, loop, fn = std::move(fn)] {
    if (weak.expired()) return;
    loop->post([weak, fn] {
      auto self = weak.lock();
      if (self && !self->done_) fn();
    });
  });
}

void Connection::cancel_scheduled(std::uint64_t id) {
  fake_.clock.cancel(id);
}

PostgresFake::PostgresFake(EventLoop& loop, Clock& clock, PostgresFakeOptions options)
    : impl_(std::make_shared<Impl>(loop, clock, std::move(options))) {}

PostgresFake::~PostgresFake() {
  try {
    stop();
  } catch (const std::exception& e) {
    log::warn("fake.postgres", "stop failed", {{"error", e.what()}});
  }
}

void PostgresFake::start() {
  impl_->loop.post_and_wait([impl = impl_] {
    impl->stopped = false;
    impl->bound_port = impl->options.port;
    try {
      impl->open_listener();
    } catch (const boost::system::system_error& e) {
      throw Error("fake postgres cannot listen on " + impl->options.host + ":" +
                  std::to_string(impl->options.port) + ": " + e.code().message());
    }
  });
}

void PostgresFake::stop() {
  if (impl_->loop.stopped()) return;
  try {
    impl_->loop.post_and_wait([impl = impl_] {
      impl->stopped = true;
      impl->close_listener();
      auto connections = impl->connections;
      for (auto& [id, c] : connections) c->abort();
      // Forget them now: the loop may stop before the erasures abort() posted would run.
      impl->connections.clear();
      impl->catalog.rollback_all();
    });
  } catch (const Error&) {
    // The loop stopped meanwhile: nothing is running any more.
  }
}

std::uint16_t PostgresFake::port() const {
  return impl_->loop.post_and_wait([impl = impl_] { return impl->bound_port; });
}

std::string PostgresFake::connection_string(const std::string& user,
                                            const std::string& database) const {
  return "host=" + impl_->options.host + " port=" + std::to_string(port()) + " user=" + user +
         " dbname=" + database;
}

void PostgresFake::set_max_connections(int limit) {
  impl_->loop.post_and_wait([impl = impl_, limit] {
    impl->max_connections = limit;
    impl->ctx.max_connections = limit;
    impl->journal(event_kind::kFaultInject, "max_connections", {{"limit", limit}});
  });
}

void PostgresFake::reset_max_connections() {
  impl_->loop.post_and_wait([impl = impl_] {
    impl->max_connections = impl->options.max_connections;
    impl->ctx.max_connections = impl->options.max_connections;
    impl->journal(event_kind::kFaultHeal, "max_connections", {});
  });
}

void PostgresFake::set_refuse_connections(bool refuse) {
  impl_->loop.post_and_wait([impl = impl_, refuse] {
    impl->refusing = refuse;
    ++impl->refuse_generation;
    if (refuse) {
      impl->close_listener();
    } else if (!impl->stopped) {
      impl->open_listener();
    }
    impl->journal(refuse ? event_kind::kFaultInject : event_kind::kFaultHeal, "refuse", {});
  });
}

void PostgresFake::set_read_only(bool read_only) {
  impl_->loop.post_and_wait([impl = impl_, read_only] {
    impl->ctx.read_only = read_only;
    impl->journal(read_only ? event_kind::kFaultInject : event_kind::kFaultHeal, "read_only", {});
  });
}

namespace {

std::regex compile(const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error& e) {
    throw InputError(SourceLocation{}, "bad query pattern \"" + pattern + "\": " + e.what());
  }
}

}  // namespace

std::uint64_t PostgresFake::add_slow_query(const std::string& pattern, nanoseconds delay) {
  QueryRule rule;
  rule.pattern = pattern;
  rule.regex = compile(pattern);
  rule.delay = delay;
  return impl_->loop.post_and_wait([impl = impl_, rule]() mutable {
    rule.id = impl->next_rule++;
    impl->journal(event_kind::kFaultInject, "slow_query",
                  {{"id", rule.id}, {"pattern", rule.pattern}, {"delay_ns", rule.delay.count()}});
    impl->rules.push_back(rule);
    return rule.id;
  });
}

std::uint64_t PostgresFake::add_query_error(const std::string& pattern, const std::string& sqlstate,
                                            const std::string& message, bool fatal) {
  if (sqlstate.size() != 5) {
    throw InputError(SourceLocation{}, "a SQLSTATE has 5 characters, not \"" + sqlstate + "\"");
  }
  QueryRule rule;
  rule.pattern = pattern;
  rule.regex = compile(pattern);
  rule.error = SqlError(sqlstate, message);
  rule.error->fatal = fatal;
  return impl_->loop.post_and_wait([impl = impl_, rule]() mutable {
    rule.id = impl->next_rule++;
    impl->journal(event_kind::kFaultInject, "query_error",
                  {{"id", rule.id}, {"pattern", rule.pattern}, {"sqlstate", rule.error->sqlstate}});
    impl->rules.push_back(rule);
    return rule.id;
  });
}

bool PostgresFake::remove_query_rule(std::uint64_t id) {
  return impl_->loop.post_and_wait([impl = impl_, id] {
    const auto n = std::erase_if(impl->rules, [id](const QueryRule& r) { return r.id == id; });
    if (n) impl->journal(event_kind::kFaultHeal, "query_rule", {{"id", id}});
    return n > 0;
  });
}

void PostgresFake::crash(nanoseconds refuse_for) {
  impl_->loop.post_and_wait([impl = impl_, refuse_for] {
    impl->journal(event_kind::kFaultInject, "crash", {{"refuse_ns", refuse_for.count()}});
    impl->close_listener();
    auto connections = impl->connections;
    for (auto& [id, c] : connections) c->abort();
    impl->catalog.rollback_all();
    if (impl->stopped || impl->refusing) return;
    if (refuse_for.count() > 0) {
      impl->reopen_after(refuse_for);
    } else {
      impl->open_listener();
    }
  });
}

void PostgresFake::admin_shutdown(nanoseconds refuse_for) {
  impl_->loop.post_and_wait([impl = impl_, refuse_for] {
    impl->journal(event_kind::kFaultInject, "admin_shutdown", {{"refuse_ns", refuse_for.count()}});
    if (refuse_for.count() > 0) impl->close_listener();
    SqlError e("57P01", "terminating connection due to administrator command");
    auto connections = impl->connections;
    for (auto& [id, c] : connections) c->session().terminate(e);
    if (refuse_for.count() > 0 && !impl->stopped && !impl->refusing) impl->reopen_after(refuse_for);
  });
}

void PostgresFake::heal_all() {
  impl_->loop.post_and_wait([impl = impl_] {
    impl->rules.clear();
    impl->ctx.read_only = false;
    impl->max_connections = impl->options.max_connections;
    impl->ctx.max_connections = impl->options.max_connections;
    impl->refusing = false;
    ++impl->refuse_generation;
    if (!impl->stopped) impl->open_listener();
    impl->journal(event_kind::kFaultHeal, "all", {});
  });
}

std::size_t PostgresFake::session_count() const {
  return impl_->loop.post_and_wait([impl = impl_] { return impl->sessions.size(); });
}

std::size_t PostgresFake::connection_count() const {
  return impl_->loop.post_and_wait([impl = impl_] { return impl->connections.size(); });
}

nlohmann::json PostgresFake::status() const {
  return impl_->loop.post_and_wait([impl = impl_] {
    nlohmann::json rules = nlohmann::json::array();
    for (const QueryRule& r : impl->rules) {
      nlohmann::json j = {{"id", r.id}, {"pattern", r.pattern}};
      if (r.error) {
        j["kind"] = "error";
        j["sqlstate"] = r.error->sqlstate;
        j["message"] = r.error->message;
        j["fatal"] = r.error->fatal;
      } else {
        j["kind"] = "slow";
        j["delay_ms"] = std::chrono::duration<double, std::milli>(r.delay).count();
      }
      rules.push_back(j);
    }
    return nlohmann::json{{"port", impl->bound_port},
                          {"listening", impl->acceptor != nullptr},
                          {"refusing", impl->refusing},
                          {"read_only", impl->ctx.read_only},
                          {"max_connections", impl->max_connections},
                          {"sessions", impl->sessions.size()},
                          {"connections", impl->connections.size()},
                          {"tables", impl->catalog.table_names()},
                          {"rules", rules}};
  });
}

std::string PostgresFake::dump() const {
  return impl_->loop.post_and_wait([impl = impl_] { return dump_catalog(impl->catalog); });
}

void PostgresFake::load(const std::string& sql) {
  impl_->loop.post_and_wait([impl = impl_, sql] { load_catalog(impl->ctx, sql); });
}

}  // namespace faultline::pg
