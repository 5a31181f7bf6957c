#include "harness/backends/probes.h"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace faultline::backends {

stack::ProbeResult ping_redis(const std::string& host, int port) {
  const timeval timeout{2, 0};
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, timeout);
  if (!c || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return {false, "connect: " + why};
  }
  redisSetTimeout(c, timeout);
  auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
  stack::ProbeResult result{false, reply ? "" : std::string("PING: ") + c->errstr};
  if (reply) {
    const std::string text = reply->str ? std::string(reply->str, reply->len) : "";
    result = {reply->type == REDIS_REPLY_STATUS && text == "PONG", "PING: " + text};
    freeReplyObject(reply);
  }
  redisFree(c);
  return result;
}

stack::ProbeResult ping_postgres(const std::string& conninfo) {
  switch (PQping((conninfo + " connect_timeout=2").c_str())) {
    case PQPING_OK:
      return {true, "PQping: accepting connections"};
    case PQPING_REJECT:
      return {false, "PQping: rejecting connections"};
    case PQPING_NO_RESPONSE:
      return {false, "PQping: no response"};
    default:
      return {false, "PQping: bad connection parameters"};
  }
}

stack::ProbeResult probe_tcp(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addrs); rc != 0) {
    return {false, "resolve " + host + ": " + ::gai_strerror(rc)};
  }
  std::string why = "no address";
  bool ok = false;
  for (addrinfo* a = addrs; a && !ok; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = ETIMEDOUT;
      if (::poll(&p, 1, 2000) == 1) {
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
      ok = err == 0;
      if (!ok) why = std::strerror(err);
    } else {
      why = std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(addrs);
  const std::string where = host + ":" + std::to_string(port);
  return ok ? stack::ProbeResult{true, "connect " + where + ": accepted"}
            : stack::ProbeResult{false, "connect " + where + ": " + why};
}

}  // namespace faultline::backends
