#include "fakes/redis/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <hiredis/hiredis.h>

namespace faultline::fakes::redis::testing {

std::string describe_reply(const redisReply* r) {
  if (!r) return "!no reply";
  switch (r->type) {
    case REDIS_REPLY_STATUS:
      return "+" + std::string(r->str, r->len);
    case REDIS_REPLY_ERROR:
      return "-" + std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return ":" + std::to_string(r->integer);
    case REDIS_REPLY_STRING:
      return "$" + std::string(r->str, r->len);
    case REDIS_REPLY_NIL:
      return "$(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string s = "*[";
      for (std::size_t i = 0; i < r->elements; ++i) {
        if (i) s += ", ";
        s += describe_reply(r->element[i]);
      }
      return s + "]";
    }
    default:
      return "?type " + std::to_string(r->type);
  }
}

namespace {

redisContext* checked(redisContext* c, const std::string& what) {
  if (!c) throw std::runtime_error("cannot allocate a hiredis context");
  if (c->err) {
    const std::string err = c->errstr;
    redisFree(c);
    throw std::runtime_error("cannot connect to " + what + ": " + err);
  }
  const timeval timeout{30, 0};  // a bound, not a synchronisation
  redisSetTimeout(c, timeout);
  return c;
}

}  // namespace

RedisTestClient RedisTestClient::tcp(const std::string& host, std::uint16_t port) {
  return RedisTestClient(
      checked(redisConnect(host.c_str(), port), host + ":" + std::to_string(port)));
}

RedisTestClient RedisTestClient::unix_socket(const std::string& path) {
  return RedisTestClient(checked(redisConnectUnix(path.c_str()), path));
}

std::optional<RedisTestClient> RedisTestClient::try_tcp(const std::string& host,
                                                        std::uint16_t port) {
  try {
    return tcp(host, port);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

RedisTestClient::RedisTestClient(RedisTestClient&& other) noexcept : ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

RedisTestClient& RedisTestClient::operator=(RedisTestClient&& other) noexcept {
  if (this != &other) {
    if (ctx_) redisFree(ctx_);
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

RedisTestClient::~RedisTestClient() {
  if (ctx_) redisFree(ctx_);
}

std::string RedisTestClient::cmd(const std::vector<std::string>& argv) {
  return pipeline({argv}).front();
}

std::vector<std::string> RedisTestClient::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<std::string> out;
  if (ctx_->err) {
    out.assign(commands.size(), "!" + std::string(ctx_->errstr));
    return out;
  }
  for (const auto& argv : commands) {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data());
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(ctx_, &reply) != REDIS_OK) {
      out.push_back("!" + std::string(ctx_->errstr));
      continue;
    }
    out.push_back(describe_reply(static_cast<redisReply*>(reply)));
    freeReplyObject(reply);
  }
  return out;
}

RawSocket RawSocket::tcp(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("connect: " + err);
  }
  return RawSocket(fd);
}

RawSocket::RawSocket(RawSocket&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

void RawSocket::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("send: " + std::string(std::strerror(errno)));
    }
    sent += static_cast<std::size_t>(n);
  }
}

void RawSocket::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

namespace {

// Waits for input up to the deadline; returns bytes read (0 = EOF, -1 = deadline or error).
ssize_t read_some(int fd, char* buf, std::size_t n,
                  std::chrono::steady_clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return -1;
    const ssize_t got = ::recv(fd, buf, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno == ECONNRESET ? 0 : -1;
    return got;
  }
}

}  // namespace

std::string RawSocket::read_exactly(std::size_t n, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    const ssize_t got = read_some(fd_, buf, std::min(sizeof buf, n - out.size()), deadline);
    if (got <= 0) break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return out;
}

bool RawSocket::read_to_eof(std::string& out, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[65536];
  while (true) {
    const ssize_t got = read_some(fd_, buf, sizeof buf, deadline);
    if (got == 0) return true;
    if (got < 0) return false;
    out.append(buf, static_cast<std::size_t>(got));
  }
}

std::string RawSocket::read_available() {
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t got = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (got <= 0) break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return out;
}

std::pair<int, std::string> http_request(std::uint16_t port, const std::string& method,
                                         const std::string& target, const std::string& body) {
  RawSocket s = RawSocket::tcp(port);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!body.empty()) req += "Content-Type: application/json\r\n";
  req += "\r\n" + body;
  s.send(req);
  std::string response;
  s.read_to_eof(response);
  int status = 0;
  if (response.rfind("HTTP/1.1 ", 0) == 0) status = std::atoi(response.c_str() + 9);
  const auto split = response.find("\r\n\r\n");
  return {status, split == std::string::npos ? "" : response.substr(split + 4)};
}

}  // namespace faultline::fakes::redis::testing
