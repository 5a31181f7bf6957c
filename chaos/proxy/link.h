// Link: one proxied connection — the accepted client socket, the socket to the upstream, and one
// ToxicChain per direction (upstream: client -> server, downstream: server -> client).
//
// Reading waits for readability and then reads into the EventLoop thread's scratch buffer. With
// no toxic in a direction and nothing queued, the bytes are sent straight on from that buffer
// (the fast path: no allocation, no copy into per-link memory, so an idle link costs its two
// sockets and this object); once a read fills 64 KiB the direction is in a bulk transfer and
// moves bytes with splice(2) through a pipe, never copying them to user space, until reads get
// small again. Otherwise they go through the chain, whose output is queued and
// written. A direction stops reading while more than kMaxInFlight bytes of it are held by toxics
// or queued, so a slow or stopped toxic pushes back on the sender instead of growing memory.
// End of stream is passed on as a FIN (half-close is kept); an error or a reset on one side
// resets the other. Internal to chaos/proxy; includes Asio.
//
// Thread safety: none; a Link lives on the EventLoop thread. It is owned by shared_ptr (its
// pending I/O holds it alive); `close()` ends it, and the owner forgets it in `on_link_closed`.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "chaos/proxy/toxic_chain.h"

namespace faultline::proxy {

class Link;

// What a link needs from its proxy.
class LinkOwner {
 public:
  virtual ~LinkOwner() = default;
  virtual void on_link_closed(std::uint64_t id) = 0;
  virtual void count_bytes(StreamDirection d, std::size_t n) = 0;
  virtual Clock& clock() = 0;
  virtual ToxicChain::Dispatch dispatch() = 0;
};

class Link : public std::enable_shared_from_this<Link> {
 public:
  static constexpr std::size_t kMaxInFlight = 4 << 20;

  Link(LinkOwner& owner, std::uint64_t id, boost::asio::ip::tcp::socket client);
  ~Link();

  std::uint64_t id() const { return id_; }
  // Connects to the upstream; on success calls `connected` (the proxy adds the toxics there) and
  // starts moving data; on failure closes the client.
  void connect(std::vector<boost::asio::ip::tcp::endpoint> upstream,
               std::function<void(Link&)> connected);
  // True once connected to the upstream: only then does it have chains.
  bool ready() const { return up_ != nullptr && !closed_; }
  ToxicChain& chain(StreamDirection d);
  // Ends the link now: FIN on both sockets, or RST (SO_LINGER 0) when `reset`. Idempotent.
  void close(bool reset);
  // Ends the link gracefully: stops reading, writes what is queued, then FIN both ways.
  void finish();
  bool closed() const { return closed_; }

 private:
  class Half;
  void half_done();

  LinkOwner& owner_;
  std::uint64_t id_;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  std::unique_ptr<Half> up_;    // client -> upstream
  std::unique_ptr<Half> down_;  // upstream -> client
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace faultline::proxy
