#include "harness/stack/wait_strategy.h"

#include <regex>

#include "harness/stack/wait_probes.h"

namespace faultline::stack {
namespace {

using namespace std::chrono_literals;

constexpr auto kLookTimeout = 2s;  // one connect or GET; a command gets its own timeout

WaitResult waiting(std::string detail) {
  return {WaitResult::State::waiting, std::move(detail)};
}
WaitResult verdict(bool ok, std::string detail) {
  return {ok ? WaitResult::State::ready : WaitResult::State::waiting, std::move(detail)};
}

class PortOpen : public WaitStrategy {
 public:
  explicit PortOpen(int port) : port_(port) {}
  std::string describe() const override { return port_ ? "port " + std::to_string(port_) : "port"; }

 protected:
  WaitResult look(ServiceHandle& handle, TimePoint) override {
    const Endpoint& e = handle.endpoint();
    const int port = port_ ? port_ : e.port;
    if (port == 0) return {WaitResult::State::failed, "the service has no TCP port to wait for"};
    const Look l = tcp_connect(e.host, port, kLookTimeout);
    return verdict(l.ok, l.detail);
  }

 private:
  int port_;
};

class LogLine : public WaitStrategy {
 public:
  LogLine(const std::string& pattern, int times, const SourceLocation& where)
      : pattern_(pattern), times_(times) {
    try {
      regex_ = std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw InputError(where, "log pattern '" + pattern + "' is not a regex: " + e.what());
    }
  }
  std::string describe() const override {
    return "log /" + pattern_ + "/" + (times_ > 1 ? " x" + std::to_string(times_) : "");
  }

 protected:
  WaitResult look(ServiceHandle& handle, TimePoint) override {
    int seen = 0;
    for (const auto& line : handle.logs()) {
      if (std::regex_search(line, regex_)) ++seen;
    }
    return verdict(seen >= times_, "log /" + pattern_ + "/ seen " + std::to_string(seen) + " of " +
                                       std::to_string(times_));
  }

 private:
  std::string pattern_;
  int times_;
  std::regex regex_;
};

std::map<std::string, std::string> probe_environment(const Endpoint& e) {
  std::map<std::string, std::string> env = e.exports;
  env["FAULTLINE_HOST"] = e.host.empty() ? "127.0.0.1" : e.host;
  env["FAULTLINE_PORT"] = std::to_string(e.port);
  if (!e.url.empty()) env["FAULTLINE_URL"] = e.url;
  return env;
}

class Command : public WaitStrategy {
 public:
  Command(std::vector<std::string> argv, std::chrono::milliseconds run_timeout)
      : argv_(std::move(argv)), run_timeout_(run_timeout) {}
  std::string describe() const override { return "command `" + argv_.front() + "`"; }

 protected:
  WaitResult look(ServiceHandle& handle, TimePoint) override {
    const Look l = run_command(argv_, probe_environment(handle.endpoint()), run_timeout_);
    return verdict(l.ok, l.detail);
  }

 private:
  std::vector<std::string> argv_;
  std::chrono::milliseconds run_timeout_;
};

class Sql : public WaitStrategy {
 public:
  explicit Sql(std::string sql) : sql_(std::move(sql)) {}
  std::string describe() const override { return "sql `" + sql_ + "`"; }

 protected:
  WaitResult look(ServiceHandle& handle, TimePoint) override {
    const Endpoint& e = handle.endpoint();
    auto env = probe_environment(e);
    env["PGCONNECT_TIMEOUT"] = "2";
    if (!env.count("PGHOST")) env["PGHOST"] = env["FAULTLINE_HOST"];
    if (!env.count("PGPORT") && e.port) env["PGPORT"] = std::to_string(e.port);
    std::vector<std::string> argv = {"psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"};
    if (e.url.rfind("postgres", 0) == 0) argv.push_back(e.url);
    argv.insert(argv.end(), {"-c", sql_});
    const Look l = run_command(argv, env, 5s);
    return verdict(l.ok, "sql: " + l.detail);
  }

 private:
  std::string sql_;
};

class Http : public WaitStrategy {
 public:
  explicit Http(const WaitSpec& spec)
      : path_(spec.path), status_(spec.status), body_text_(spec.body) {
    if (!spec.body.empty()) {
      try {
        body_ = std::regex(spec.body, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw InputError(spec.where, "http body '" + spec.body + "' is not a regex: " + e.what());
      }
    }
  }
  std::string describe() const override {
    return "http " + path_ + " " + std::to_string(status_) +
           (body_text_.empty() ? "" : " /" + body_text_ + "/");
  }

 protected:
  WaitResult look(ServiceHandle& handle, TimePoint) override {
    const Endpoint& e = handle.endpoint();
    if (e.port == 0)
      return {WaitResult::State::failed, "the service has no TCP port for GET " + path_};
    const HttpLook l = http_get(e.host, e.port, path_, kLookTimeout);
    if (!l.answered) return waiting(l.detail);
    if (l.status != status_) return waiting(l.detail + ", want " + std::to_string(status_));
    if (body_ && !std::regex_search(l.body, *body_)) {
      return waiting(l.detail + ", body does not match /" + body_text_ + "/");
    }
    return {WaitResult::State::ready, l.detail};
  }

 private:
  std::string path_;
  int status_;
  std::string body_text_;
  std::optional<std::regex> body_;
};

class Health : public WaitStrategy {
 public:
  std::string describe() const override { return "health"; }

 protected:
  WaitResult look(ServiceHandle& handle, TimePoint) override {
    const ProbeResult p = handle.probe();
    return verdict(p.ok, p.detail);
  }
};

class Composite : public WaitStrategy {
 public:
  Composite(bool all, std::vector<std::unique_ptr<WaitStrategy>> children)
      : all_(all), children_(std::move(children)), held_(children_.size(), false) {}
  std::string describe() const override {
    std::string out = all_ ? "all_of(" : "any_of(";
    for (std::size_t i = 0; i < children_.size(); ++i) {
      out += (i ? ", " : "") + children_[i]->describe();
    }
    return out + ")";
  }

 protected:
  void reset(TimePoint now) override {
    std::fill(held_.begin(), held_.end(), false);
    for (auto& c : children_) c->begin(now);
  }
  WaitResult look(ServiceHandle& handle, TimePoint now) override {
    std::string detail;
    bool all_failed = true;
    for (std::size_t i = 0; i < children_.size(); ++i) {
      if (held_[i]) continue;
      const WaitResult r = children_[i]->check(handle, now);
      if (r.ready()) {
        held_[i] = true;
        if (!all_) return r;
        continue;
      }
      if (r.failed() && all_) return r;  // all_of cannot hold any more
      if (!r.failed()) all_failed = false;
      if (!detail.empty()) detail += "; ";
      detail += r.detail;
      // all_of waits for its children in order: no point probing a server whose port is shut.
      if (all_) return waiting(detail);
    }
    if (all_) return {WaitResult::State::ready, "all of " + std::to_string(children_.size())};
    // any_of fails only once every child has failed.
    return {all_failed ? WaitResult::State::failed : WaitResult::State::waiting, detail};
  }

 private:
  bool all_;
  std::vector<std::unique_ptr<WaitStrategy>> children_;
  std::vector<bool> held_;
};

}  // namespace

std::string_view to_string(WaitSpec::Kind kind) {
  switch (kind) {
    case WaitSpec::Kind::port:
      return "port";
    case WaitSpec::Kind::log:
      return "log";
    case WaitSpec::Kind::command:
      return "command";
    case WaitSpec::Kind::sql:
      return "sql";
    case WaitSpec::Kind::http:
      return "http";
    case WaitSpec::Kind::health:
      return "health";
    case WaitSpec::Kind::all_of:
      return "all";
    case WaitSpec::Kind::any_of:
      return "any";
  }
  return "health";
}

void WaitStrategy::begin(TimePoint now) {
  begun_ = now;
  reset(now);
}

WaitResult WaitStrategy::check(ServiceHandle& handle, TimePoint now) {
  WaitResult r = look(handle, now);
  if (!r.ready() && !r.failed() && timeout_ && now - begun_ >= *timeout_) {
    r.state = WaitResult::State::failed;
    r.detail = describe() + " did not hold within " + std::to_string(timeout_->count()) +
               " ms; last: " + r.detail;
  }
  return r;
}

std::unique_ptr<WaitStrategy> make_wait_strategy(const WaitSpec& spec) {
  std::unique_ptr<WaitStrategy> out;
  switch (spec.kind) {
    case WaitSpec::Kind::port:
      out = std::make_unique<PortOpen>(spec.port);
      break;
    case WaitSpec::Kind::log:
      if (spec.pattern.empty()) throw InputError(spec.where, "a log wait needs a pattern");
      out = std::make_unique<LogLine>(spec.pattern, std::max(1, spec.times), spec.where);
      break;
    case WaitSpec::Kind::command:
      if (spec.command.empty()) throw InputError(spec.where, "a command wait needs a command");
      out = std::make_unique<Command>(spec.command, spec.timeout.value_or(5s));
      break;
    case WaitSpec::Kind::sql:
      if (spec.sql.empty()) throw InputError(spec.where, "a sql wait needs a query");
      out = std::make_unique<Sql>(spec.sql);
      break;
    case WaitSpec::Kind::http:
      out = std::make_unique<Http>(spec);
      break;
    case WaitSpec::Kind::health:
      out = std::make_unique<Health>();
      break;
    case WaitSpec::Kind::all_of:
    case WaitSpec::Kind::any_of: {
      if (spec.children.empty()) {
        throw InputError(spec.where,
                         "'" + std::string(to_string(spec.kind)) + "' needs at least one strategy");
      }
      std::vector<std::unique_ptr<WaitStrategy>> children;
      for (const auto& c : spec.children) children.push_back(make_wait_strategy(c));
      out = std::make_unique<Composite>(spec.kind == WaitSpec::Kind::all_of, std::move(children));
      break;
    }
  }
  out->set_timeout(spec.timeout);
  return out;
}

std::string default_log_pattern(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::postgres:
      return "database system is ready to accept connections";
    case ServiceKind::redis:
      return "Ready to accept connections";
    default:
      return "";
  }
}

std::unique_ptr<WaitStrategy> wait_strategy_for(const Service& service,
                                                const ServiceHandle& handle) {
  if (service.wait) return make_wait_strategy(*service.wait);
  WaitSpec all;
  all.kind = WaitSpec::Kind::all_of;
  all.where = service.where;
  auto leaf = [](WaitSpec::Kind kind) {
    WaitSpec s;
    s.kind = kind;
    return s;
  };
  if (handle.endpoint().port > 0) all.children.push_back(leaf(WaitSpec::Kind::port));
  if (const auto pattern = default_log_pattern(service.kind);
      !pattern.empty() && handle.keeps_logs()) {
    all.children.push_back(leaf(WaitSpec::Kind::log));
    all.children.back().pattern = pattern;
  }
  all.children.push_back(leaf(WaitSpec::Kind::health));
  return make_wait_strategy(all);
}

}  // namespace faultline::stack
