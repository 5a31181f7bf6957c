#include "harness/stack/wait_probes.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "harness/core/error.h"
#include "harness/core/supervisor.h"
#include "harness/core/unique_fd.h"

namespace faultline::stack {
namespace {

using Clock = std::chrono::steady_clock;

using Fd = UniqueFd;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

// A connected non-blocking socket, or -1 with `detail` saying why.
int connect_to(const std::string& host, int port, Clock::time_point deadline, std::string& detail) {
  const std::string where =
      "connect " + (host.empty() ? std::string("127.0.0.1") : host) + ":" + std::to_string(port);
  if (port <= 0 || port > 65535) {
    detail = "no port to connect to";
    return -1;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string name = host.empty() ? "127.0.0.1" : host;
  if (int rc = ::getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    detail = where + ": " + ::gai_strerror(rc);
    return -1;
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(found);
    detail = where + ": socket: " + std::strerror(errno);
    return -1;
  }
  int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc == 0) {
      ::close(fd);
      detail = where + ": connect timed out";
      return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    errno = err;
    rc = err == 0 ? 0 : -1;
  }
  if (rc != 0) {
    detail = where + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  detail = where + ": accepted";
  return fd;
}

}  // namespace

Look tcp_connect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  Look out;
  Fd fd(connect_to(host, port, Clock::now() + timeout, out.detail));
  out.ok = fd.get() >= 0;
  return out;
}

HttpLook http_get(const std::string& host, int port, const std::string& path,
                  std::chrono::milliseconds timeout) {
  HttpLook out;
  const auto deadline = Clock::now() + timeout;
  Fd fd(connect_to(host, port, deadline, out.detail));
  if (fd.get() < 0) return out;
  const std::string request = "GET " + (path.empty() ? "/" : path) +
                              " HTTP/1.1\r\nHost: " + (host.empty() ? "127.0.0.1" : host) + ":" +
                              std::to_string(port) +
                              "\r\nConnection: close\r\nUser-Agent: faultline-wait\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
      out.detail = "GET " + path + ": timed out sending";
      return out;
    }
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      out.detail = "GET " + path + ": " + std::strerror(errno);
      return out;
    }
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  constexpr std::size_t kMax = 64 * 1024;
  char buf[4096];
  while (reply.size() < kMax) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) break;  // timed out: judge what came
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  if (reply.rfind("HTTP/", 0) != 0 || reply.size() < 12 || reply[8] != ' ') {
    out.detail = "GET " + path + ": " + (reply.empty() ? "no answer" : "not an HTTP answer");
    return out;
  }
  const std::string code = reply.substr(9, 3);
  if (code.find_first_not_of("0123456789") != std::string::npos) {
    out.detail = "GET " + path + ": bad status line";
    return out;
  }
  out.answered = true;
  out.status = std::stoi(code);
  if (auto end = reply.find("\r\n\r\n"); end != std::string::npos) out.body = reply.substr(end + 4);
  out.detail = "GET " + path + " answered " + code;
  return out;
}

Look run_command(const std::vector<std::string>& argv,
                 const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout) {
  Look out;
  if (argv.empty()) {
    out.detail = "empty command";
    return out;
  }
  // `env` adds the variables; the shell discards the output so probes do not flood the log.
  std::vector<std::string> full = {"env"};
  for (const auto& [k, v] : env) full.push_back(k + "=" + v);
  full.insert(full.end(), {"sh", "-c", "exec \"$@\" >/dev/null 2>&1", "sh"});
  full.insert(full.end(), argv.begin(), argv.end());
  try {
    const CompletedProcess done = run_to_completion(full, timeout);
    out.ok = !done.timed_out && done.status.success();
    out.detail = "`" + argv.front() + "` " +
                 (done.timed_out ? "timed out after " + std::to_string(timeout.count()) + " ms"
                                 : done.status.str());
  } catch (const Error& e) {
    out.detail = "`" + argv.front() + "`: " + e.what();
  }
  return out;
}

}  // namespace faultline::stack
