#include "chaos/proxy/link.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>

namespace faultline::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

// One read buffer per thread: a link reads into it and, on the fast path, writes from it.
std::vector<char>& scratch() {
  thread_local std::vector<char> buffer(512 * 1024);
  return buffer;
}

constexpr int kPipeBytes = 1 << 20;
// Reads at least this big mark a bulk transfer. splice(2) pays off there; for small messages a
// plain read and write are cheaper than two splices through a pipe.
constexpr std::size_t kBulkRead = 64 * 1024;
// A splice this small ends a bulk transfer; between the two a transfer keeps the path it is on.
constexpr std::size_t kSmallRead = 4 * 1024;

bool would_block(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

// One direction: reads `from`, pushes into its chain, writes the chain's output to `to`.
class Link::Half final : public ChainSink {
 public:
  Half(Link& link, tcp::socket& from, tcp::socket& to, StreamDirection dir)
      : link_(link),
        from_(from),
        to_(to),
        dir_(dir),
        chain_(link.owner_.clock(), link.owner_.dispatch(), *this) {}

  ~Half() override {
    if (pipe_[0] >= 0) ::close(pipe_[0]);
    if (pipe_[1] >= 0) ::close(pipe_[1]);
  }

  ToxicChain& chain() { return chain_; }
  bool shut() const { return shut_; }

  void arm_read() {
    if (reading_ || read_eof_ || paused() || link_.closing_ || link_.closed_) return;
    reading_ = true;
    from_.async_wait(tcp::socket::wait_read,
                     [self = link_.shared_from_this(), this](error_code ec) {
                       reading_ = false;
                       if (link_.closed_ || link_.closing_) return;
                       if (ec) return link_.close(true);
                       on_readable();
                     });
  }

  // Graceful end: stop reading, drain what is queued, FIN.
  void finish() {
    end_pending_ = true;
    start_write();
  }

  // ChainSink
  void write(std::string data) override {
    if (link_.closed_ || end_pending_) return discarded(data.size());
    out_.push_back(std::move(data));
    start_write();
  }
  void end() override {
    end_pending_ = true;
    start_write();
  }
  void discarded(std::size_t bytes) override {
    in_flight_ -= std::min(bytes, in_flight_);
    arm_read();
  }
  void close_link() override {
    asio::post(link_.client_.get_executor(), [self = link_.shared_from_this()] { self->finish(); });
  }
  void reset_link() override {
    asio::post(link_.client_.get_executor(),
               [self = link_.shared_from_this()] { self->close(true); });
  }

 private:
  bool paused() const { return in_flight_ >= kMaxInFlight || piped_ > 0; }

  // The pipe splice(2) moves bytes through on the fast path; made on first use, so idle links
  // hold no pipe. False if the kernel refuses one (then the copying path is used).
  bool have_pipe() {
    if (pipe_[0] >= 0) return true;
    if (pipe_failed_ || ::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
      pipe_failed_ = true;
      return false;
    }
    ::fcntl(pipe_[1], F_SETPIPE_SZ, kPipeBytes);  // best effort: the default is 64 KiB
    return true;
  }

  // Fast path: socket -> pipe -> socket in the kernel. Returns false when the source has nothing
  // more for now (or the link ended); true to keep reading.
  bool splice_once() {
    const ssize_t n = ::splice(from_.native_handle(), nullptr, pipe_[1], nullptr, kPipeBytes,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return false;
      link_.close(true);
      return false;
    }
    if (n == 0) {
      read_eof_ = true;
      chain_.push_eof();
      return false;
    }
    link_.owner_.count_bytes(dir_, static_cast<std::size_t>(n));
    piped_ = static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < kSmallRead)
      bulk_ = false;  // small messages again: copying is cheaper
    drain_pipe();
    return piped_ == 0 && !link_.closed_;
  }

  // Writes what the pipe holds to `to_`, waiting for it to be writable when it must.
  void drain_pipe() {
    while (piped_ > 0) {
      const ssize_t w = ::splice(pipe_[0], nullptr, to_.native_handle(), nullptr, piped_,
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (w > 0) {
        piped_ -= static_cast<std::size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        writing_ = true;
        to_.async_wait(tcp::socket::wait_write,
                       [self = link_.shared_from_this(), this](error_code ec) {
                         writing_ = false;
                         if (link_.closed_) return;
                         if (ec) return link_.close(true);
                         drain_pipe();
                         if (piped_ == 0 && !link_.closed_) {
                           start_write();
                           arm_read();
                         }
                       });
        return;
      }
      return link_.close(true);
    }
  }

  void on_readable() {
    std::vector<char>& buf = scratch();
    for (int round = 0; round < 8; ++round) {
      if (bulk_ && chain_.empty() && out_.empty() && !writing_ && !end_pending_ && have_pipe()) {
        if (!splice_once()) break;
        continue;
      }
      error_code ec;
      const std::size_t n = from_.read_some(asio::buffer(buf), ec);
      if (would_block(ec)) break;
      if (ec == asio::error::eof) {
        read_eof_ = true;
        chain_.push_eof();
        return;
      }
      if (ec) return link_.close(true);
      link_.owner_.count_bytes(dir_, n);
      bulk_ = n >= kBulkRead;  // a full-sized read: a bulk transfer, worth splicing
      if (chain_.empty() && out_.empty() && !writing_ && !end_pending_) {
        std::size_t written = to_.write_some(asio::buffer(buf.data(), n), ec);
        if (ec && !would_block(ec)) return link_.close(true);
        if (ec) written = 0;
        if (written < n) {
          out_.emplace_back(buf.data() + written, n - written);
          in_flight_ += n - written;
          start_write();
        }
      } else {
        in_flight_ += n;
        chain_.push(std::string(buf.data(), n));
      }
      if (link_.closed_ || link_.closing_ || paused() || n < buf.size()) break;
    }
    if (read_eof_ || link_.closed_) return;
    arm_read();
  }

  void start_write() {
    if (writing_ || link_.closed_) return;
    if (piped_ > 0) return drain_pipe();  // spliced bytes go first; it calls us back
    if (out_.empty()) {
      if (end_pending_ && !shut_) {
        error_code ignored;
        to_.shutdown(tcp::socket::shutdown_send, ignored);
        shut_ = true;
        link_.half_done();
      }
      return;
    }
    writing_ = true;
    const std::string& front = out_.front();
    to_.async_write_some(asio::buffer(front.data() + offset_, front.size() - offset_),
                         [self = link_.shared_from_this(), this](error_code ec, std::size_t n) {
                           writing_ = false;
                           if (link_.closed_) return;
                           if (ec) return link_.close(true);
                           offset_ += n;
                           in_flight_ -= std::min(n, in_flight_);
                           if (offset_ == out_.front().size()) {
                             out_.pop_front();
                             offset_ = 0;
                           }
                           start_write();
                           arm_read();
                         });
  }

  Link& link_;
  tcp::socket& from_;
  tcp::socket& to_;
  StreamDirection dir_;
  ToxicChain chain_;
  std::deque<std::string> out_;
  std::size_t offset_ = 0;     // written part of out_.front()
  std::size_t in_flight_ = 0;  // read and not yet written or dropped
  bool reading_ = false;
  bool writing_ = false;
  bool read_eof_ = false;
  bool end_pending_ = false;  // the end of stream reached the sink
  bool shut_ = false;         // FIN sent
  int pipe_[2] = {-1, -1};    // splice(2) pipe: read end, write end
  bool pipe_failed_ = false;
  std::size_t piped_ = 0;  // bytes in the pipe not yet written to `to_`
  bool bulk_ = false;      // in a bulk transfer: splice
};

Link::Link(LinkOwner& owner, std::uint64_t id, tcp::socket client)
    : owner_(owner), id_(id), client_(std::move(client)), upstream_(client_.get_executor()) {}

Link::~Link() {
  // Chains first: their toxics may cancel timers, and must not outlive the sockets' owner.
  up_.reset();
  down_.reset();
}

void Link::connect(std::vector<tcp::endpoint> upstream, std::function<void(Link&)> connected) {
  asio::async_connect(upstream_, upstream,
                      [self = shared_from_this(), connected = std::move(connected)](
                          error_code ec, const tcp::endpoint&) {
                        if (self->closed_) return;
                        if (ec) return self->close(false);
                        error_code ignored;
                        for (tcp::socket* s : {&self->client_, &self->upstream_}) {
                          s->set_option(tcp::no_delay(true), ignored);
                          s->non_blocking(true, ignored);
                        }
                        self->up_ = std::make_unique<Half>(*self, self->client_, self->upstream_,
                                                           StreamDirection::upstream);
                        self->down_ = std::make_unique<Half>(*self, self->upstream_, self->client_,
                                                             StreamDirection::downstream);
                        connected(*self);
                        if (self->closed_) return;
                        self->up_->arm_read();
                        self->down_->arm_read();
                      });
}

ToxicChain& Link::chain(StreamDirection d) {
  return d == StreamDirection::upstream ? up_->chain() : down_->chain();
}

void Link::half_done() {
  if (up_ && down_ && up_->shut() && down_->shut()) close(false);
}

void Link::finish() {
  if (closed_ || closing_) return;
  if (!up_ || !down_) return close(false);
  closing_ = true;
  auto self = shared_from_this();
  up_->finish();
  down_->finish();
}

void Link::close(bool reset) {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();  // the owner may drop its reference below
  error_code ignored;
  for (tcp::socket* s : {&client_, &upstream_}) {
    if (!s->is_open()) continue;
    if (reset) s->set_option(asio::socket_base::linger(true, 0), ignored);
    s->close(ignored);
  }
  owner_.on_link_closed(id_);
}

}  // namespace faultline::proxy
