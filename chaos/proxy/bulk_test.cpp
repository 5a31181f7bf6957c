// Bulk transfers through the proxy's fast path (splice(2) through a pipe once reads are large):
// every byte arrives, in order, both ways at once, and the counters agree; a toxic added while a
// link is splicing acts on that live link. Loopback sockets and a seeded byte stream; no sleeps.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>

#include "chaos/proxy/proxy_server.h"
#include "chaos/proxy/proxy_test_support.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/testing/covers.h"

namespace faultline::proxy {
namespace {

using namespace testing;

// The byte at position `i` of the stream seeded with `seed` (splitmix64 of the 8-byte word).
class Pattern {
 public:
  explicit Pattern(std::uint64_t seed) : seed_(seed) {}
  void fill(std::uint64_t pos, char* out, std::size_t n) const {
    for (std::size_t k = 0; k < n; ++k) out[k] = at(pos + k);
  }
  char at(std::uint64_t i) const {
    std::uint64_t z = seed_ + (i / 8) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<char>(z >> ((i % 8) * 8));
  }

 private:
  std::uint64_t seed_;
};

// Sends `total` bytes of `pattern` on `fd` in 1 MiB writes; false if the connection failed.
bool send_pattern(int fd, const Pattern& pattern, std::uint64_t total) {
  std::vector<char> block(1 << 20);
  std::uint64_t sent = 0;
  while (sent < total) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), total - sent));
    pattern.fill(sent, block.data(), n);
    std::size_t off = 0;
    while (off < n) {
      const ssize_t w = ::send(fd, block.data() + off, n - off, MSG_NOSIGNAL);
      if (w <= 0) return false;
      off += static_cast<std::size_t>(w);
    }
    sent += n;
  }
  return true;
}

struct Received {
  std::uint64_t bytes = 0;
  std::int64_t first_mismatch = -1;  // position of the first byte that differs from the pattern
  bool reset = false;                // ended by an error (RST), not EOF
};

// Reads `fd` to EOF or error, checking each byte against `pattern`; `progress` follows the count.
Received receive_pattern(int fd, const Pattern& pattern, std::atomic<std::uint64_t>* progress) {
  Received r;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      r.reset = true;
      break;
    }
    for (ssize_t k = 0; k < n && r.first_mismatch < 0; ++k) {
      if (buf[static_cast<std::size_t>(k)] != pattern.at(r.bytes + static_cast<std::uint64_t>(k)))
        r.first_mismatch = static_cast<std::int64_t>(r.bytes) + k;
    }
    r.bytes += static_cast<std::uint64_t>(n);
    if (progress) progress->store(r.bytes);
  }
  return r;
}

// Accepts connections on loopback.
class Listener {
 public:
  Listener() : fd_(listen_local(&port_)) {}
  std::uint16_t port() const { return port_; }
  Fd accept() { return Fd(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC)); }

 private:
  std::uint16_t port_ = 0;
  Fd fd_;
};

struct BulkTest : ::testing::Test {
  RealClock clock;
  EventLoop loop;
  Rng rng = faultline::testing::test_rng();
  ProxyServer server{loop, clock, rng.child("proxy")};
  Listener upstream;
  ProxyHandle proxy =
      server.add_proxy({"bulk", "127.0.0.1:0", "127.0.0.1:" + std::to_string(upstream.port())});
};

TEST_F(BulkTest, BothDirectionsArriveByteExactAndCounted) {
  constexpr std::uint64_t kUp = 96ull << 20;
  constexpr std::uint64_t kDown = 80ull << 20;
  const Pattern up(rng.next()), down(rng.next());
  Received at_server, at_client;
  std::thread server_side([&] {
    Fd c = upstream.accept();
    std::thread writer([&] {
      send_pattern(c.get(), down, kDown);
      ::shutdown(c.get(), SHUT_WR);
    });
    at_server = receive_pattern(c.get(), up, nullptr);
    writer.join();
  });
  Fd client = connect_local(proxy.port());
  std::thread writer([&] {
    EXPECT_TRUE(send_pattern(client.get(), up, kUp));
    ::shutdown(client.get(), SHUT_WR);
  });
  at_client = receive_pattern(client.get(), down, nullptr);
  writer.join();
  server_side.join();

  EXPECT_EQ(at_server.bytes, kUp);
  EXPECT_EQ(at_server.first_mismatch, -1);
  EXPECT_FALSE(at_server.reset);
  EXPECT_EQ(at_client.bytes, kDown);
  EXPECT_EQ(at_client.first_mismatch, -1);
  EXPECT_FALSE(at_client.reset);
  const ProxyCounters counters = server.counters("bulk");
  EXPECT_EQ(counters.bytes_upstream, kUp);
  EXPECT_EQ(counters.bytes_downstream, kDown);
}

TEST_F(BulkTest, ToxicAddedMidTransferActsOnTheSplicingLink) {
  // reset_peer with timeout 0 resets the live link at once: the transfer, well under way on the
  // fast path, ends with an error on both sides short of its total.
  constexpr std::uint64_t kTotal = 4ull << 30;  // never reached: the reset comes first
  const Pattern up(rng.next());
  std::atomic<std::uint64_t> progress{0};
  Received at_server;
  std::thread server_side([&] {
    Fd c = upstream.accept();
    at_server = receive_pattern(c.get(), up, &progress);
  });
  Fd client = connect_local(proxy.port());
  std::atomic<bool> send_ok{true};
  std::thread writer([&] { send_ok = send_pattern(client.get(), up, kTotal); });
  ASSERT_TRUE(eventually([&] { return progress.load() >= (16u << 20); }))
      << "16 MiB did not arrive";
  ToxicHandle reset = server.add_toxic(
      "bulk",
      ToxicSpec::from_json(
          {{"type", "reset_peer"}, {"stream", "upstream"}, {"attributes", {{"timeout", 0}}}}));
  writer.join();
  server_side.join();
  EXPECT_FALSE(send_ok.load()) << "the client's writes never failed";
  EXPECT_LT(at_server.bytes, kTotal);
  EXPECT_EQ(at_server.first_mismatch, -1);  // what did arrive is the stream's prefix
  EXPECT_TRUE(at_server.reset) << "the server saw a clean EOF, not a reset";
}

}  // namespace
}  // namespace faultline::proxy
