#include "harness/clients/cache/redis_manager.h"

#include <hiredis/hiredis.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <sstream>

#include "harness/core/log.h"

namespace faultline::clients {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// hiredis writes with write(2): a peer that went away would raise SIGPIPE and kill the process.
// Block it on this thread for the call and swallow one that became pending, so the failure is an
// EPIPE error instead; nothing changes for other threads or the process's dispositions.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

// What a failed context means. `err_no` is errno right after the failing hiredis call.
RedisFailure classify_context(const redisContext* c, int err_no) {
  if (c->err == REDIS_ERR_EOF) return RedisFailure::kConnectionLost;
  if (c->err == REDIS_ERR_PROTOCOL) return RedisFailure::kProtocol;
  const std::string text = c->errstr;
  if (err_no == EAGAIN || err_no == EWOULDBLOCK || err_no == ETIMEDOUT || err_no == EINPROGRESS ||
      text.find("timed out") != std::string::npos ||
      text.find("temporarily unavailable") != std::string::npos)
    return RedisFailure::kTimeout;
  if (err_no == ECONNREFUSED || err_no == ENOENT || text.find("refused") != std::string::npos ||
      text.find("No such file") != std::string::npos)
    return RedisFailure::kRefused;
  return RedisFailure::kConnectionLost;
}

RedisFailure classify_error_reply(const std::string& line) {
  const std::string code = line.substr(0, line.find(' '));
  if (code == "OOM") return RedisFailure::kOom;
  if (code == "LOADING") return RedisFailure::kLoading;
  if (code == "READONLY") return RedisFailure::kReadonly;
  if (code == "BUSY" || code == "MASTERDOWN" || code == "TRYAGAIN" || code == "CLUSTERDOWN")
    return RedisFailure::kBusy;
  return RedisFailure::kError;
}

RedisResult convert(const redisReply* reply) {
  RedisResult r;
  switch (reply->type) {
    case REDIS_REPLY_NIL:
      r.kind = RedisResult::Kind::kNil;
      break;
    case REDIS_REPLY_STRING:
      r.kind = RedisResult::Kind::kString;
      r.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      r.kind = RedisResult::Kind::kStatus;
      r.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      r.kind = RedisResult::Kind::kInteger;
      r.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      r.kind = RedisResult::Kind::kArray;
      for (size_t i = 0; i < reply->elements; ++i) {
        const redisReply* e = reply->element[i];
        r.elements.emplace_back(e->str ? std::string(e->str, e->len) : std::string());
      }
      break;
    case REDIS_REPLY_ERROR:
      r.kind = RedisResult::Kind::kError;
      r.str.assign(reply->str, reply->len);
      r.failure = classify_error_reply(r.str);
      break;
    default:
      r.failure = RedisFailure::kProtocol;
  }
  return r;
}

// "field:value" lines of an INFO reply.
std::string info_field(const std::string& info, const std::string& field) {
  std::istringstream in(info);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.compare(0, field.size() + 1, field + ":") == 0) return line.substr(field.size() + 1);
  }
  return "";
}

std::uint64_t info_number(const std::string& info, const std::string& field) {
  const std::string text = info_field(info, field);
  try {
    return text.empty() ? 0 : std::stoull(text);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

const char* to_string(RedisFailure failure) {
  switch (failure) {
    case RedisFailure::kNone:
      return "none";
    case RedisFailure::kRefused:
      return "refused";
    case RedisFailure::kTimeout:
      return "timeout";
    case RedisFailure::kConnectionLost:
      return "connection_lost";
    case RedisFailure::kOom:
      return "oom";
    case RedisFailure::kLoading:
      return "loading";
    case RedisFailure::kReadonly:
      return "readonly";
    case RedisFailure::kBusy:
      return "busy";
    case RedisFailure::kError:
      return "error";
    case RedisFailure::kProtocol:
      return "protocol";
  }
  return "unknown";
}

bool RedisResult::outage() const {
  switch (failure) {
    case RedisFailure::kRefused:
    case RedisFailure::kTimeout:
    case RedisFailure::kConnectionLost:
    case RedisFailure::kLoading:
    case RedisFailure::kBusy:
    case RedisFailure::kProtocol:
      return true;
    default:
      return false;
  }
}

struct RedisManager::Conn {
  redisContext* ctx = nullptr;
  bool used = false;  // has answered a command
  ~Conn() {
    if (ctx) redisFree(ctx);
  }
};

RedisManager::RedisManager(CacheConfig config) : config_(std::move(config)) {
  config_.validate();
}

RedisManager::~RedisManager() = default;

RedisFailure RedisManager::connect() {
  std::lock_guard lock(mu_);
  return connect_locked();
}

RedisFailure RedisManager::connect_locked() {
  if (conn_) return RedisFailure::kNone;
  const timeval connect_tv = to_timeval(config_.connect_timeout);
  errno = 0;
  redisContext* c = config_.unix_path.empty()
                        ? redisConnectWithTimeout(config_.host.c_str(), config_.port, connect_tv)
                        : redisConnectUnixWithTimeout(config_.unix_path.c_str(), connect_tv);
  const int err_no = errno;
  if (c == nullptr) {
    last_connect_error_ = "connect: cannot allocate a context";
    return RedisFailure::kConnectionLost;
  }
  auto conn = std::make_unique<Conn>();
  conn->ctx = c;
  if (c->err) {
    const RedisFailure failure = classify_context(c, err_no);
    last_connect_error_ = std::string("connect: ") + c->errstr;
    log::warn(
        config_.name, "redis connect failed",
        {{"endpoint", config_.unix_path.empty() ? config_.host + ":" + std::to_string(config_.port)
                                                : config_.unix_path},
         {"failure", to_string(failure)},
         {"error", c->errstr}});
    return failure;
  }
  redisSetTimeout(c, to_timeval(config_.command_timeout));
  conn_ = std::move(conn);
  ++connects_;
  if (config_.database != 0) {
    // SELECT goes through the same checks as any command; on failure the connection is dropped.
    auto* reply = static_cast<redisReply*>(redisCommand(conn_->ctx, "SELECT %d", config_.database));
    const int select_errno = errno;
    if (reply == nullptr) {
      const RedisFailure failure = classify_context(conn_->ctx, select_errno);
      last_connect_error_ = std::string("SELECT: ") + conn_->ctx->errstr;
      conn_.reset();
      return failure;
    }
    const RedisResult r = convert(reply);
    freeReplyObject(reply);
    if (!r.ok()) {
      last_connect_error_ = "SELECT: " + r.str;
      conn_.reset();
      return r.failure;
    }
  }
  return RedisFailure::kNone;
}

bool RedisManager::connected() const {
  std::lock_guard lock(mu_);
  return conn_ != nullptr;
}

void RedisManager::disconnect() {
  std::lock_guard lock(mu_);
  conn_.reset();
}

std::uint64_t RedisManager::connects() const {
  std::lock_guard lock(mu_);
  return connects_;
}

RedisResult RedisManager::command(const std::vector<std::string>& argv) {
  std::lock_guard lock(mu_);
  SigpipeGuard no_sigpipe;
  RedisResult r;
  r.failure = connect_locked();
  if (!r.ok()) {
    r.str = last_connect_error_;
    return r;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  // A connection that sat idle may have been closed by the server (restart, client timeout,
  // CLIENT KILL): if a reused one turns out closed, dial once more and retry, since what this
  // client sends (GET, SET, DEL, PING, INFO) is idempotent. A timeout is never retried.
  for (bool reused = conn_->used;; reused = false) {
    errno = 0;
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(conn_->ctx, static_cast<int>(args.size()), args.data(), lens.data()));
    const int err_no = errno;
    if (reply != nullptr) {
      conn_->used = true;
      r = convert(reply);
      freeReplyObject(reply);
      return r;
    }
    r.failure = classify_context(conn_->ctx, err_no);
    r.str = conn_->ctx->errstr;
    // The reply may still arrive later: never reuse this socket.
    conn_.reset();
    if (!reused || r.failure != RedisFailure::kConnectionLost) return r;
    if (const RedisFailure again = connect_locked(); again != RedisFailure::kNone) {
      r.failure = again;
      r.str = last_connect_error_;
      return r;
    }
  }
}

RedisHealth RedisManager::health() {
  RedisHealth h;
  const RedisResult r = command({"INFO"});
  if (!r.ok() && r.failure != RedisFailure::kLoading) {
    h.failure = r.failure;
    h.error = r.str.empty() ? to_string(r.failure) : r.str;
    return h;
  }
  h.reachable = true;
  if (r.failure == RedisFailure::kLoading) {  // INFO is allowed while loading; be safe anyway
    h.loading = true;
    return h;
  }
  const std::string& info = r.str;
  h.loading = info_field(info, "loading") == "1";
  h.role = info_field(info, "role");
  h.used_memory = info_number(info, "used_memory");
  h.maxmemory = info_number(info, "maxmemory");
  h.maxmemory_policy = info_field(info, "maxmemory_policy");
  h.evicted_keys = info_number(info, "evicted_keys");
  h.expired_keys = info_number(info, "expired_keys");
  h.redis_version = info_field(info, "redis_version");
  return h;
}

}  // namespace faultline::clients
