#include "fakes/postgres/session.h"

#include <openssl/evp.h>

#include <cstdio>

namespace faultline::pg {

namespace {

std::string md5_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

std::int16_t type_length(Type t) {
  switch (t) {
    case Type::boolean:
      return 1;
    case Type::int4:
    case Type::void_:
      return 4;
    case Type::int8:
    case Type::timestamptz:
      return 8;
    case Type::unknown:
      return -2;
    default:
      return -1;
  }
}

}  // namespace

Session::Session(SessionHost& host, SessionIo& io)
    : host_(host), io_(io), reader_(host.max_message_bytes()), executor_(host.sql(), sql_) {}

Session::~Session() {
  *alive_ = false;
  if (timer_) io_.cancel_scheduled(*timer_);
}

void Session::receive(std::string_view bytes) {
  if (phase_ == Phase::closed) return;
  reader_.append(bytes);
  pump();
}

void Session::pump() {
  while (phase_ != Phase::closed && !busy_) {
    std::optional<Frame> frame;
    try {
      frame = reader_.next(phase_ == Phase::startup);
      if (!frame) break;
      if (phase_ == Phase::startup) {
        handle_startup(frame->body);
      } else if (phase_ == Phase::auth) {
        if (frame->type != 'p') {
          throw ProtocolError("expected password response, got message type " +
                              std::string(1, frame->type));
        }
        handle_password(frame->body);
      } else {
        handle(*frame);
      }
    } catch (const ProtocolError& e) {
      fatal(SqlError("08P01", e.what()));
    } catch (const SqlError& e) {
      if (phase_ != Phase::ready || e.fatal) {
        fatal(e);
      } else {
        statement_failed(e, !frame || frame->type != 'Q');
      }
    }
  }
  flush();
}

void Session::handle_startup(const std::string& body) {
  MessageReader r(body);
  const auto code = static_cast<std::uint32_t>(r.int32());
  if (code == kSslRequestCode || code == kGssEncRequestCode) {
    out_.byte('N');
    return;
  }
  if (code == kCancelRequestCode) {
    const std::int32_t pid = r.int32();
    const std::int32_t key = r.int32();
    phase_ = Phase::closed;
    host_.cancel(pid, key);
    io_.close();
    return;
  }
  if ((code >> 16) != 3) {
    SqlError e("0A000", "unsupported frontend protocol " + std::to_string(code >> 16) + "." +
                            std::to_string(code & 0xffff) + ": server supports 3.0 to 3.0");
    throw e;
  }
  std::map<std::string, std::string> params;
  while (true) {
    std::string name = r.cstring();
    if (name.empty()) break;
    params[name] = r.cstring();
  }
  if (!params.count("user") || params["user"].empty()) {
    throw SqlError("28000", "no PostgreSQL user name specified in startup packet");
  }
  sql_.user = params["user"];
  sql_.database =
      params.count("database") && !params["database"].empty() ? params["database"] : sql_.user;
  application_name_ = params.count("application_name") ? params["application_name"] : "";
  pid_ = host_.next_pid();
  secret_ = static_cast<std::int32_t>(host_.random32());
  phase_ = Phase::auth;
  if (auto refused = host_.admit(*this)) throw *refused;
  admitted_ = true;
  switch (host_.auth_method()) {
    case AuthMethod::trust:
      finish_startup();
      break;
    case AuthMethod::password:
      out_.begin('R').int32(3).finish();
      break;
    case AuthMethod::md5:
      salt_ = host_.random32();
      out_.begin('R')
          .int32(5)
          .bytes(std::string(reinterpret_cast<const char*>(&salt_), 4))
          .finish();
      break;
  }
}

void Session::handle_password(const std::string& body) {
  MessageReader r(body);
  const std::string given = r.cstring();
  const auto expected = host_.password_of(sql_.user);
  bool ok = false;
  if (expected) {
    if (host_.auth_method() == AuthMethod::password) {
      ok = given == *expected;
    } else {
      const std::string inner = md5_hex(*expected + sql_.user);
      ok = given == "md5" + md5_hex(inner + std::string(reinterpret_cast<const char*>(&salt_), 4));
    }
  }
  if (!ok) throw SqlError("28P01", "password authentication failed for user \"" + sql_.user + "\"");
  finish_startup();
}

void Session::finish_startup() {
  if (host_.auth_method() == AuthMethod::trust && !host_.password_of(sql_.user)) {
    throw SqlError("28000", "role \"" + sql_.user + "\" does not exist");
  }
  if (!host_.database_exists(sql_.database)) {
    throw SqlError("3D000", "database \"" + sql_.database + "\" does not exist");
  }
  out_.begin('R').int32(0).finish();
  if (!application_name_.empty()) sql_.settings["application_name"] = application_name_;
  for (const SettingInfo& s : known_settings()) {
    if (!s.reported) continue;
    std::string value = setting_value(sql_, s);
    if (s.name == "server_version") value = host_.sql().server_version;
    send_parameter_status(s.name, value);
  }
  out_.begin('K').int32(pid_).int32(secret_).finish();
  phase_ = Phase::ready;
  send_ready();
}

void Session::handle(const Frame& frame) {
  if (skip_until_sync_ && frame.type != 'S' && frame.type != 'X') return;
  switch (frame.type) {
    case 'Q': {
      MessageReader r(frame.body);
      start_simple_query(r.cstring());
      return;
    }
    case 'P':
      parse(frame.body);
      return;
    case 'B':
      bind(frame.body);
      return;
    case 'D':
      describe(frame.body);
      return;
    case 'E':
      execute(frame.body);
      return;
    case 'S':
      sync();
      return;
    case 'C':
      close_object(frame.body);
      return;
    case 'H':
      return;  // replies are sent as soon as they are made
    case 'X':
      disconnected();
      phase_ = Phase::closed;
      io_.close();
      return;
    case 'd':
    case 'c':
    case 'f':
      return;  // copy messages outside COPY are ignored, as by the real server
    default:
      throw ProtocolError("invalid frontend message type " +
                          std::to_string(static_cast<unsigned char>(frame.type)));
  }
}

void Session::start_simple_query(const std::string& sql) {
  last_query_ = sql;
  std::vector<ParsedStatement> statements = parse_sql(sql);
  if (statements.empty()) {
    out_.begin('I').finish();
    send_ready();
    return;
  }
  job_ = Job{};
  job_->statements = std::move(statements);
  busy_ = true;
  run_job();
}

void Session::run_job() {
  while (job_ && job_->next < job_->statements.size()) {
    const ParsedStatement& st = job_->statements[job_->next];
    StatementResult result;
    if (job_->delayed_result) {
      result = std::move(*job_->delayed_result);
      job_->delayed_result.reset();
    } else {
      if (!job_->fault_checked) {
        job_->fault_checked = true;
        QueryFaultAction action = host_.query_fault(st.text);
        if (action.error) {
          if (action.error->fatal) {
            fatal(*action.error);
            return;
          }
          statement_failed(*action.error, job_->extended);
          return;
        }
        if (action.delay.count() > 0) {
          timer_ = io_.schedule(action.delay, [this, alive = std::weak_ptr<bool>(alive_)] {
            if (alive.expired() || !*alive.lock()) return;
            timer_.reset();
            run_job();
            pump();
          });
          return;
        }
      }
      try {
        result = executor_.run(st.node, job_->params);
      } catch (const SqlError& e) {
        statement_failed(e, job_->extended);
        return;
      }
      if (result.sleep.count() > 0) {
        const auto sleep = result.sleep;
        result.sleep = std::chrono::nanoseconds(0);
        job_->delayed_result = std::move(result);
        timer_ = io_.schedule(sleep, [this, alive = std::weak_ptr<bool>(alive_)] {
          if (alive.expired() || !*alive.lock()) return;
          timer_.reset();
          run_job();
          pump();
        });
        return;
      }
    }
    for (const Notice& n : result.notices) send_notice(n);
    for (const auto& [name, value] : result.reported) send_parameter_status(name, value);
    if (job_->extended) {
      Portal& portal = portals_[job_->portal];
      const std::size_t limit = job_->max_rows > 0 ? static_cast<std::size_t>(job_->max_rows) : 0;
      send_result(result, false, 0, limit);
      if (limit > 0 && result.rows.size() > limit) {
        portal.pending = std::move(result);
        portal.sent = limit;
      }
    } else {
      send_result(result, true, 0, 0);
    }
    ++job_->next;
    job_->fault_checked = false;
  }
  finish_job(true);
}

void Session::finish_job(bool success) {
  if (!job_) return;
  const bool extended = job_->extended;
  job_.reset();
  busy_ = false;
  if (!extended) {
    executor_.finish_implicit(success);
    send_ready();
  }
  flush();
}

void Session::send_result(const StatementResult& r, bool row_description, std::size_t first_row,
                          std::size_t max_rows) {
  if (r.returns_rows && row_description) send_row_description(r.columns);
  std::size_t end = r.rows.size();
  if (max_rows > 0) end = std::min(end, first_row + max_rows);
  for (std::size_t i = first_row; i < end; ++i) {
    out_.begin('D').int16(static_cast<std::int16_t>(r.rows[i].size()));
    for (const auto& cell : r.rows[i]) {
      if (!cell) {
        out_.int32(-1);
      } else {
        out_.int32(static_cast<std::int32_t>(cell->size())).bytes(*cell);
      }
    }
    out_.finish();
  }
  if (end < r.rows.size()) {
    out_.begin('s').finish();
  } else {
    out_.begin('C').cstring(r.tag).finish();
  }
}

void Session::send_row_description(const std::vector<ResultColumn>& columns) {
  out_.begin('T').int16(static_cast<std::int16_t>(columns.size()));
  for (const ResultColumn& c : columns) {
    out_.cstring(c.name).int32(0).int16(0).int32(static_cast<std::int32_t>(type_oid(c.type)));
    out_.int16(type_length(c.type)).int32(-1).int16(0);
  }
  out_.finish();
}

void Session::send_error(const SqlError& e, const char* severity) {
  out_.begin('E');
  out_.byte('S').cstring(severity).byte('V').cstring(severity);
  out_.byte('C').cstring(e.sqlstate).byte('M').cstring(e.message);
  if (!e.detail.empty()) out_.byte('D').cstring(e.detail);
  if (!e.hint.empty()) out_.byte('H').cstring(e.hint);
  if (e.position > 0) out_.byte('P').cstring(std::to_string(e.position));
  if (!e.context.empty()) out_.byte('W').cstring(e.context);
  out_.byte('\0').finish();
}

void Session::send_notice(const Notice& n) {
  static const std::map<std::string, int> kRank = {{"debug5", 0}, {"debug4", 0},  {"debug3", 0},
                                                   {"debug2", 0}, {"debug1", 0},  {"log", 1},
                                                   {"notice", 2}, {"warning", 3}, {"error", 4}};
  auto wanted = sql_.settings.find("client_min_messages");
  if (wanted != sql_.settings.end()) {
    auto limit = kRank.find(wanted->second);
    const int rank = n.severity == "WARNING" ? 3 : 2;
    if (limit != kRank.end() && rank < limit->second) return;
  }
  out_.begin('N');
  out_.byte('S').cstring(n.severity).byte('V').cstring(n.severity);
  out_.byte('C').cstring(n.sqlstate).byte('M').cstring(n.message).byte('\0').finish();
}

void Session::send_parameter_status(const std::string& name, const std::string& value) {
  out_.begin('S').cstring(name).cstring(value).finish();
}

void Session::send_ready() {
  char status = 'I';
  if (sql_.state == TxnState::in_block) status = 'T';
  if (sql_.state == TxnState::failed) status = 'E';
  out_.begin('Z').byte(status).finish();
}

void Session::statement_failed(const SqlError& e, bool extended) {
  send_error(e);
  if (sql_.state == TxnState::in_block) {
    sql_.state = TxnState::failed;
  } else if (sql_.state == TxnState::idle) {
    executor_.finish_implicit(false);
  }
  job_.reset();
  busy_ = false;
  if (extended) {
    skip_until_sync_ = true;
  } else {
    send_ready();
  }
  flush();
}

void Session::fatal(const SqlError& e) {
  if (phase_ == Phase::closed) return;
  send_error(e, "FATAL");
  flush();
  drop();
}

void Session::terminate(const SqlError& error) {
  fatal(error);
}

void Session::drop() {
  if (phase_ == Phase::closed && !admitted_) return;
  phase_ = Phase::closed;
  disconnected();
  io_.close();
}

void Session::disconnected() {
  if (timer_) {
    io_.cancel_scheduled(*timer_);
    timer_.reset();
  }
  job_.reset();
  busy_ = false;
  if (sql_.txn != 0) {
    host_.sql().catalog->rollback(sql_.txn);
    sql_.txn = 0;
  }
  if (admitted_) {
    admitted_ = false;
    host_.leave(*this);
  }
  phase_ = Phase::closed;
}

void Session::cancel_statement() {
  if (!timer_ || !job_) return;
  io_.cancel_scheduled(*timer_);
  timer_.reset();
  statement_failed(SqlError("57014", "canceling statement due to user request"), job_->extended);
  pump();
}

void Session::flush() {
  if (!out_.empty()) io_.send(out_.take());
}

void Session::parse(const std::string& body) {
  MessageReader r(body);
  const std::string name = r.cstring();
  const std::string query = r.cstring();
  const std::int16_t n = r.int16();
  if (n < 0) throw ProtocolError("invalid number of parameter types");
  std::vector<std::uint32_t> declared;
  for (int i = 0; i < n; ++i) declared.push_back(static_cast<std::uint32_t>(r.int32()));
  if (!name.empty() && prepared_.count(name)) {
    throw SqlError("42P05", "prepared statement \"" + name + "\" already exists");
  }
  last_query_ = query;
  auto prepared = std::make_shared<Prepared>();
  prepared->statements = parse_sql(query);
  if (prepared->statements.size() > 1) {
    throw SqlError("42601", "cannot insert multiple commands into a prepared statement");
  }
  if (prepared->statements.empty()) {
    for (std::uint32_t oid : declared) {
      prepared->param_types.push_back(type_from_oid(oid).value_or(Type::text));
    }
  } else {
    prepared->param_types = executor_.parameter_types(prepared->statements[0].node, declared);
  }
  prepared_[name] = std::move(prepared);
  out_.begin('1').finish();
}

void Session::bind(const std::string& body) {
  MessageReader r(body);
  const std::string portal_name = r.cstring();
  const std::string statement = r.cstring();
  const std::int16_t nformats = r.int16();
  std::vector<std::int16_t> formats;
  for (int i = 0; i < nformats; ++i) formats.push_back(r.int16());
  const std::int16_t nparams = r.int16();
  if (nformats < 0 || nparams < 0) throw ProtocolError("invalid Bind message");
  std::vector<std::optional<std::string>> raw;
  for (int i = 0; i < nparams; ++i) {
    const std::int32_t len = r.int32();
    if (len < -1) throw ProtocolError("invalid parameter length");
    raw.push_back(len == -1 ? std::nullopt
                            : std::optional<std::string>(r.bytes(static_cast<std::size_t>(len))));
  }
  const std::int16_t nresult = r.int16();
  for (int i = 0; i < nresult; ++i) {
    if (r.int16() != 0) throw not_supported("binary result format");
  }
  auto it = prepared_.find(statement);
  if (it == prepared_.end()) {
    throw SqlError("26000", "prepared statement \"" + statement + "\" does not exist");
  }
  const auto& prepared = it->second;
  if (raw.size() != prepared->param_types.size()) {
    throw SqlError("08P01", "bind message supplies " + std::to_string(raw.size()) +
                                " parameters, but prepared statement \"" + statement +
                                "\" requires " + std::to_string(prepared->param_types.size()));
  }
  for (std::int16_t f : formats) {
    if (f != 0) throw not_supported("binary parameter format");
  }
  if (!portal_name.empty() && portals_.count(portal_name)) {
    throw SqlError("42P03", "cursor \"" + portal_name + "\" already exists");
  }
  Portal portal;
  portal.prepared = prepared;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const Type t = prepared->param_types[i];
    try {
      portal.params.push_back(raw[i] ? parse_value(t, *raw[i]) : Value::null_of(t));
    } catch (SqlError& e) {
      e.context =
          (portal_name.empty() ? std::string("unnamed portal") : "portal \"" + portal_name + "\"") +
          " parameter $" + std::to_string(i + 1) + " = '...'";
      throw;
    }
  }
  portals_[portal_name] = std::move(portal);
  out_.begin('2').finish();
}

void Session::describe(const std::string& body) {
  MessageReader r(body);
  const char kind = static_cast<char>(r.byte());
  const std::string name = r.cstring();
  std::shared_ptr<Prepared> prepared;
  std::vector<Value> params;
  if (kind == 'S') {
    auto it = prepared_.find(name);
    if (it == prepared_.end()) {
      throw SqlError("26000", "prepared statement \"" + name + "\" does not exist");
    }
    prepared = it->second;
    out_.begin('t').int16(static_cast<std::int16_t>(prepared->param_types.size()));
    for (Type t : prepared->param_types) {
      out_.int32(static_cast<std::int32_t>(type_oid(t)));
      params.push_back(Value::null_of(t));
    }
    out_.finish();
  } else if (kind == 'P') {
    auto it = portals_.find(name);
    if (it == portals_.end()) throw SqlError("34000", "portal \"" + name + "\" does not exist");
    prepared = it->second.prepared;
    params = it->second.params;
  } else {
    throw ProtocolError("invalid DESCRIBE message subtype " + std::to_string(kind));
  }
  if (prepared->statements.empty()) {
    out_.begin('n').finish();
    return;
  }
  const StatementResult r2 = executor_.run(prepared->statements[0].node, params, true);
  if (r2.returns_rows) {
    send_row_description(r2.columns);
  } else {
    out_.begin('n').finish();
  }
}

void Session::execute(const std::string& body) {
  MessageReader r(body);
  const std::string name = r.cstring();
  const std::int32_t max_rows = r.int32();
  auto it = portals_.find(name);
  if (it == portals_.end()) throw SqlError("34000", "portal \"" + name + "\" does not exist");
  Portal& portal = it->second;
  if (portal.pending) {
    const std::size_t limit = max_rows > 0 ? static_cast<std::size_t>(max_rows) : 0;
    send_result(*portal.pending, false, portal.sent, limit);
    portal.sent += limit;
    if (limit == 0 || portal.sent >= portal.pending->rows.size()) portal.pending.reset();
    return;
  }
  if (portal.prepared->statements.empty()) {
    out_.begin('I').finish();
    return;
  }
  last_query_ = portal.prepared->statements[0].text;
  job_ = Job{};
  job_->statements = portal.prepared->statements;
  job_->extended = true;
  job_->portal = name;
  job_->max_rows = max_rows;
  job_->params = portal.params;
  busy_ = true;
  run_job();
}

void Session::sync() {
  skip_until_sync_ = false;
  if (sql_.state == TxnState::idle) {
    executor_.finish_implicit(true);
    portals_.clear();
  }
  send_ready();
}

void Session::close_object(const std::string& body) {
  MessageReader r(body);
  const char kind = static_cast<char>(r.byte());
  const std::string name = r.cstring();
  if (kind == 'S') {
    prepared_.erase(name);
  } else if (kind == 'P') {
    portals_.erase(name);
  } else {
    throw ProtocolError("invalid CLOSE message subtype " + std::to_string(kind));
  }
  out_.begin('3').finish();
}

}  // namespace faultline::pg
