// Bad input on the wire: protocol garbage, oversized bulks, half-closed and abruptly closed
// connections, pipelined floods. The fake answers redis-server's error and closes where
// redis-server closes, and other clients are unaffected.
#include <sys/socket.h>

#include <thread>

#include <gtest/gtest.h>

#include "fakes/redis/fake_fixture.h"

namespace faultline::fakes::redis::testing {
namespace {

std::string send_and_read_to_eof(std::uint16_t port, const std::string& bytes) {
  RawSocket raw = RawSocket::tcp(port);
  raw.send(bytes);
  std::string got;
  EXPECT_TRUE(raw.read_to_eof(got)) << "connection left open after: " << bytes.substr(0, 40);
  return got;
}

TEST_F(FakeRedisTest, ProtocolErrorsAreAnsweredAndTheConnectionClosed) {
  const auto port = fake->port();
  auto bystander = connect();
  EXPECT_EQ(send_and_read_to_eof(port, "*1\r\n$4\r\nPING\r\n*x\r\n"),
            "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n");
  EXPECT_EQ(send_and_read_to_eof(port, "*2\r\n$4\r\nECHO\r\n$600000000\r\n"),
            "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_EQ(send_and_read_to_eof(port, "*2\r\n$4\r\nECHO\r\n+a\r\n"),
            "-ERR Protocol error: expected '$', got '+'\r\n");
  EXPECT_EQ(send_and_read_to_eof(port, "PING \"abc\r\n"),
            "-ERR Protocol error: unbalanced quotes in request\r\n");
  EXPECT_EQ(send_and_read_to_eof(port, std::string(70000, 'x')),
            "-ERR Protocol error: too big inline request\r\n");
  EXPECT_EQ(bystander.cmd({"PING"}), "+PONG");
}

TEST_F(FakeRedisTest, NullArrayAndNullBulkAreDistinctOnTheWire) {
  RawSocket raw = RawSocket::tcp(fake->port());
  raw.send("LPOP nolist 2\r\nLPOP nolist\r\n");
  EXPECT_EQ(raw.read_exactly(10), "*-1\r\n$-1\r\n");
}

TEST_F(FakeRedisTest, HalfClosedConnectionGetsItsRepliesThenIsClosed) {
  RawSocket raw = RawSocket::tcp(fake->port());
  raw.send("PING\r\nECHO hi\r\n");
  raw.shutdown_write();
  std::string got;
  EXPECT_TRUE(raw.read_to_eof(got));
  EXPECT_EQ(got, "+PONG\r\n$2\r\nhi\r\n");
}

TEST_F(FakeRedisTest, AbruptlyClosedConnectionsLeaveNothingBehind) {
  for (int i = 0; i < 20; ++i) {
    RawSocket raw = RawSocket::tcp(fake->port());
    raw.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\npartial");  // then gone mid-request
  }
  auto c = connect();
  EXPECT_EQ(c.cmd({"PING"}), "+PONG");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (fake->client_count() > 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(fake->client_count(), 2u);  // the fixture's client and `c`
  EXPECT_EQ(c.cmd({"EXISTS", "k"}), ":0");
}

TEST_F(FakeRedisTest, PipelinedFloodIsAnsweredInOrderWithBoundedBuffers) {
  constexpr int kCommands = 100000;
  RawSocket raw = RawSocket::tcp(fake->port());
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n";
  // Write from another thread: the fake stops reading while its replies are not being read.
  std::thread writer([&] {
    for (int i = 0; i < kCommands / 1000; ++i) raw.send(batch);
  });
  std::string expected;
  for (int i = 1; i <= kCommands; ++i) expected += ":" + std::to_string(i) + "\r\n";
  const std::string got = raw.read_exactly(expected.size());
  writer.join();
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected);
  EXPECT_EQ(cmd({"GET", "n"}), "$" + std::to_string(kCommands));
}

TEST_F(FakeRedisTest, UnixSocketAndRestartKeepData) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("faultline-redis-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct RemoveDir {
    std::filesystem::path path;
    ~RemoveDir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove_dir{dir};  // even when an assertion throws
  RedisFakeOptions o;
  o.unix_path = dir / "redis.sock";
  start(o);
  {
    auto c = RedisTestClient::unix_socket(o.unix_path.string());
    EXPECT_EQ(c.cmd({"SET", "k", "v"}), "+OK");
  }
  fake->stop();
  EXPECT_FALSE(std::filesystem::exists(o.unix_path));
  fake->start();
  auto c = RedisTestClient::unix_socket(o.unix_path.string());
  EXPECT_EQ(c.cmd({"GET", "k"}), "$v");
  fake.reset();
}

TEST(FakeRedisOptions, RejectsNonLoopbackHostsAndUnknownPolicies) {
  ManualClock clock;
  EventLoop loop;
  RedisFakeOptions o;
  o.host = "0.0.0.0";
  EXPECT_THROW(RedisFake(loop, clock, o), InputError);
  o.host = "127.0.0.1";
  o.maxmemory_policy = "allkeys-lfu";
  EXPECT_THROW(RedisFake(loop, clock, o), InputError);
}

}  // namespace
}  // namespace faultline::fakes::redis::testing
