// Blocking loopback sockets for tests: connect, send, read with a bound, wait for a condition, and
// a tiny HTTP/1.1 client. Every wait has a generous bound and returns as soon as its condition
// holds; nothing here sleeps to synchronise.
//
// Thread safety: the free functions are independent; an Fd belongs to one thread at a time.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "harness/core/unique_fd.h"

namespace faultline::testing {

inline constexpr std::chrono::milliseconds kBound{20000};

using Fd = UniqueFd;

// A socket listening on 127.0.0.1 at a port the kernel picks, written to `port`.
inline Fd listen_local(std::uint16_t* port, int backlog = 128) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(fd.get(), backlog);
  socklen_t len = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

// Connects to 127.0.0.1:port; returns an invalid Fd and sets `err` on failure.
inline Fd connect_local(std::uint16_t port, int* err = nullptr) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (err != nullptr) *err = errno;
    return Fd();
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

inline bool send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// What a bounded read saw.
struct ReadResult {
  std::string data;
  bool eof = false;        // orderly close (FIN)
  int error = 0;           // errno, e.g. ECONNRESET
  bool timed_out = false;  // the bound passed first
};

// Reads until `want` bytes arrived, the peer closed, an error, or `bound` passed.
inline ReadResult read_until(int fd, std::size_t want, std::chrono::milliseconds bound = kBound) {
  ReadResult r;
  const auto deadline = std::chrono::steady_clock::now() + bound;
  char buf[65536];
  while (r.data.size() < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready == 0) {
      r.timed_out = true;
      break;
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      r.eof = true;
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      r.error = errno;
      break;
    }
    r.data.append(buf, static_cast<std::size_t>(n));
  }
  return r;
}

// Waits until `pred` holds, at most `bound`; true if it did. Yields between checks.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds bound = kBound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    pollfd none{};
    ::poll(&none, 0, 5);  // a short pause between checks, not a synchronisation
  }
  return pred();
}

struct HttpResult {
  int status = 0;
  std::string body;
  std::string headers;
};

// One HTTP/1.1 request with Connection: close.
inline HttpResult http(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "", const std::string& extra_headers = "") {
  HttpResult out;
  Fd fd = connect_local(port);
  if (!fd) return out;
  std::string req = method + " " + target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  send_all(fd.get(), req);
  ReadResult r = read_until(fd.get(), SIZE_MAX);
  const auto head_end = r.data.find("\r\n\r\n");
  if (head_end == std::string::npos || r.data.size() < 12) return out;
  out.status = std::stoi(r.data.substr(9, 3));
  out.headers = r.data.substr(0, head_end);
  out.body = r.data.substr(head_end + 4);
  return out;
}

}  // namespace faultline::testing
