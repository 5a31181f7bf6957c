// Connection: one client of the Redis fake — reads requests, runs them, writes replies in order.
//
// Internal to fakes/redis (it includes Asio; only server.cpp and connection.cpp include it).
//
// Flow control: a connection reads a chunk, runs every complete request in it, writes all the
// replies and only then reads again, so a pipelined flood costs at most one chunk of input and its
// replies at a time. A request that must wait — the `pause` fault, or `latency` on the harness
// Clock — blocks the connection (later requests wait behind it, as they would behind a slow
// redis-server). A protocol error is answered with redis-server's text and the connection closed
// after the reply, as redis-server does. When the client half-closes, the requests already
// received are still answered before the connection closes.
//
// Thread safety: everything runs on the fake's event-loop thread; a Clock timer callback only
// posts to the loop.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/generic/stream_protocol.hpp>

#include "fakes/redis/commands.h"
#include "fakes/redis/keyspace.h"
#include "fakes/redis/resp.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"

namespace faultline::fakes::redis {

class Connection;

// What the connections of one fake share.
struct ServerCore {
  ServerCore(EventLoop& l, Clock& c, Rng rng, int databases)
      : loop(l), clock(c), keyspace(c, rng, databases) {
    state.keyspace = &keyspace;
  }
  EventLoop& loop;
  Clock& clock;
  Keyspace keyspace;
  ServerState state;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;
  std::uint64_t next_client_id = 1;

  void remove(std::uint64_t id);
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;
  static constexpr std::size_t kMaxQueryBuffer = std::size_t{1} << 30;  // client-query-buffer-limit

  Connection(Socket socket, ServerCore& core, std::uint64_t id, std::string addr,
             std::string laddr);

  void start();
  // Closes at once; pending replies are dropped (as when redis-server kills a client).
  void close();
  // The pause fault was healed: run what was held.
  void resume();
  const ClientInfo& info() const { return info_; }
  // True while a request waits for the pause fault or injected latency.
  bool blocked() const { return blocked_ && !closed_; }

 private:
  void pump();
  void process();
  void handle(std::vector<std::string> argv, bool delay_served);
  void run(const std::vector<std::string>& argv);
  void flush();
  void start_read();
  void latency_elapsed();

  Socket socket_;
  ServerCore& core_;
  ClientInfo info_;
  RespParser parser_;
  std::array<char, 16 * 1024> read_buf_{};
  std::string out_;
  std::string writing_buf_;
  bool reading_ = false;
  bool writing_ = false;
  bool blocked_ = false;
  bool close_after_reply_ = false;
  bool eof_ = false;
  bool closed_ = false;
  std::optional<std::vector<std::string>> held_;  // the request waiting for pause or latency
  bool held_delay_served_ = false;
  std::optional<TimerId> latency_timer_;
  std::uint64_t answered_ = 0;  // since the close_after fault was (re)set
  std::uint64_t close_after_generation_ = 0;
};

}  // namespace faultline::fakes::redis
