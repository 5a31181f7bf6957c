// Test clients for the Redis fake's own tests and the conformance suite (not part of the fake).
//
// `RedisTestClient` wraps a hiredis connection and renders each reply as one comparable string:
//   +OK   -ERR text   :42   $bulk   $(nil)   *(nil)   *[a, b, *[c]]
// so a test can compare the fake's reply with redis-server's, or with an expected literal.
// `RawSocket` is a blocking loopback socket for sending protocol garbage and reading exactly what
// comes back, with generous bounded waits (never a sleep).
//
// Thread safety: one object per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct redisContext;
struct redisReply;

namespace faultline::fakes::redis::testing {

std::string describe_reply(const redisReply* reply);

class RedisTestClient {
 public:
  // Connects to host:port (or a unix socket when `unix_path` is set); throws on failure.
  static RedisTestClient tcp(const std::string& host, std::uint16_t port);
  static RedisTestClient unix_socket(const std::string& path);
  // Like tcp() but returns nullopt instead of throwing (for "connection refused" tests).
  static std::optional<RedisTestClient> try_tcp(const std::string& host, std::uint16_t port);

  RedisTestClient(RedisTestClient&& other) noexcept;
  RedisTestClient& operator=(RedisTestClient&& other) noexcept;
  ~RedisTestClient();

  // Sends one command and returns its rendered reply, or "!<io error>" if the connection failed.
  std::string cmd(const std::vector<std::string>& argv);
  // Pipelines several commands and returns their replies in order.
  std::vector<std::string> pipeline(const std::vector<std::vector<std::string>>& commands);

 private:
  explicit RedisTestClient(redisContext* c) : ctx_(c) {}
  redisContext* ctx_ = nullptr;
};

class RawSocket {
 public:
  static RawSocket tcp(std::uint16_t port);  // 127.0.0.1; throws on failure
  RawSocket(RawSocket&& other) noexcept;
  RawSocket& operator=(RawSocket&& other) = delete;
  ~RawSocket();

  void send(const std::string& bytes);
  void shutdown_write();
  // Reads until `n` bytes have arrived, EOF, or `limit`; returns what arrived.
  std::string read_exactly(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(20));
  // Reads until EOF (true) or `limit` (false); `out` gets everything read.
  bool read_to_eof(std::string& out, std::chrono::seconds limit = std::chrono::seconds(20));
  // Whatever is available now without waiting.
  std::string read_available();
  int fd() const { return fd_; }

 private:
  explicit RawSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Sends one HTTP/1.1 request (Connection: close) and returns (status, body).
std::pair<int, std::string> http_request(std::uint16_t port, const std::string& method,
                                         const std::string& target, const std::string& body = "");

}  // namespace faultline::fakes::redis::testing
