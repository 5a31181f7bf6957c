#include "fakes/docker/http_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <optional>
#include <sstream>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "harness/core/event_loop.h"

namespace faultline::fakes::docker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using Tcp = asio::ip::tcp;
using Local = asio::local::stream_protocol;

namespace {

constexpr std::size_t kBodyLimit = 4 << 20;

const char* reason(int status) {
  return http::obsolete_reason(static_cast<http::status>(status)).data();
}

std::string serialize(const HttpReply& reply, unsigned version, bool keep_alive,
                      bool head_request) {
  http::response<http::string_body> res(static_cast<http::status>(reply.status), version);
  for (const auto& [k, v] : reply.headers) res.set(k, v);
  if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
  res.body() = reply.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  if (head_request) {
    // The header says what a GET would carry; a HEAD reply has no body.
    std::ostringstream out;
    out << res.base();
    return out.str();
  }
  std::ostringstream out;
  out << res;
  return out.str();
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(EventLoop& l, Handler h) : loop(l), handler(std::move(h)) {}

  EventLoop& loop;
  Handler handler;
  std::atomic<bool> stalled{false};
  std::atomic<std::uint64_t> served{0};
  std::vector<std::function<void()>> held;  // loop thread only
  std::vector<std::pair<std::weak_ptr<void>, std::function<void()>>> closers;
  std::unique_ptr<Local::acceptor> unix_acceptor;
  std::unique_ptr<Tcp::acceptor> tcp_acceptor;
  std::string unix_path;
  bool stopped = false;

  template <class Socket>
  void accept_on(typename Socket::protocol_type::acceptor& acceptor);
};

namespace {

template <class Socket>
class Session : public std::enable_shared_from_this<Session<Socket>> {
 public:
  Session(std::shared_ptr<HttpServer::Impl> server, Socket socket)
      : server_(std::move(server)), socket_(std::move(socket)) {}

  void start() { read(); }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (cancel_stream_) {
      auto cancel = std::move(cancel_stream_);
      cancel_stream_ = nullptr;
      cancel();
    }
    error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  using Self = Session<Socket>;

  void read() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (closed_) return;
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::broken_pipe) {
      return close();
    }
    if (ec) {
      const bool too_big = ec == http::error::body_limit;
      HttpReply reply = HttpReply::error(
          too_big ? 413 : 400, too_big ? "request body too large" : "bad request: " + ec.message());
      send(serialize(reply, 11, false, false), true);
      return;
    }
    auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    request.body = std::move(req.body());
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    auto self = this->shared_from_this();
    auto serve = [self, request = std::move(request), version, keep_alive]() mutable {
      self->serve(std::move(request), version, keep_alive);
    };
    if (server_->stalled.load()) {
      server_->held.push_back(std::move(serve));
    } else {
      serve();
    }
  }

  void serve(HttpRequest request, unsigned version, bool keep_alive) {
    if (closed_) return;
    const bool head = request.method == "HEAD";
    HttpReply reply = server_->handler(std::move(request));
    server_->served.fetch_add(1);
    auto self = this->shared_from_this();
    EventLoop& loop = server_->loop;
    if (reply.defer) {
      auto defer = std::move(reply.defer);
      auto done = [self, &loop, version, keep_alive, head](HttpReply r) {
        loop.post([self, r = std::move(r), version, keep_alive, head] {
          self->send(serialize(r, version, keep_alive, head), !keep_alive);
          if (keep_alive) self->read();
        });
      };
      try {
        defer(done);
      } catch (const ApiError& e) {
        done(HttpReply::error(e.status(), e.what()));
      } catch (const std::exception& e) {
        done(HttpReply::error(500, e.what()));
      }
      return;
    }
    if (reply.stream) {
      std::string head_text =
          "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) + "\r\n";
      for (const auto& [k, v] : reply.headers) head_text += k + ": " + v + "\r\n";
      head_text += "Content-Type: " + reply.content_type +
                   // The connection ends with the stream: say so, so no client pools it.
                   "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
      send(head_text, false);
      std::weak_ptr<Self> weak = self;
      auto write = [weak, &loop](std::string chunk) {
        if (chunk.empty()) return;
        loop.post([weak, chunk = std::move(chunk)] {
          auto s = weak.lock();
          if (!s) return;
          std::ostringstream size;
          size << std::hex << chunk.size();
          s->send(size.str() + "\r\n" + chunk + "\r\n", false);
        });
      };
      auto end = [weak, &loop] {
        loop.post([weak] {
          if (auto s = weak.lock()) s->send("0\r\n\r\n", true);
        });
      };
      cancel_stream_ = reply.stream(write, end);
      watch_for_close();
      return;
    }
    send(serialize(reply, version, keep_alive, head), !keep_alive);
    if (keep_alive) read();
  }

  // While streaming, the client sends nothing more; a read completing means it went away.
  void watch_for_close() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = this->shared_from_this()](error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->watch_for_close();
                            });
  }

  void send(std::string bytes, bool close_after) {
    if (closed_) return;
    outbox_.push_back({std::move(bytes), close_after});
    if (!writing_) write_next();
  }

  void write_next() {
    if (outbox_.empty() || closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(outbox_.front().first),
                      [self = this->shared_from_this()](error_code ec, std::size_t) {
                        const bool close_after = self->outbox_.front().second;
                        self->outbox_.pop_front();
                        if (ec || close_after) {
                          self->writing_ = false;
                          return self->close();
                        }
                        self->write_next();
                      });
  }

  std::shared_ptr<HttpServer::Impl> server_;
  Socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<std::pair<std::string, bool>> outbox_;
  bool writing_ = false;
  bool closed_ = false;
  std::function<void()> cancel_stream_;
  char scratch_[256];
};

}  // namespace

template <class Socket>
void HttpServer::Impl::accept_on(typename Socket::protocol_type::acceptor& acceptor) {
  acceptor.async_accept([self = shared_from_this(), &acceptor](error_code ec, Socket socket) {
    if (self->stopped) return;
    if (!ec) {
      auto session = std::make_shared<Session<Socket>>(self, std::move(socket));
      std::weak_ptr<Session<Socket>> weak = session;
      std::erase_if(self->closers, [](const auto& c) { return c.first.expired(); });
      self->closers.emplace_back(weak, [weak] {
        if (auto s = weak.lock()) s->close();
      });
      session->start();
    }
    self->accept_on<Socket>(acceptor);
  });
}

HttpServer::HttpServer(EventLoop& loop, Handler handler)
    : impl_(std::make_shared<Impl>(loop, std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::listen_unix(const std::string& path) {
  namespace fs = std::filesystem;
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw Error("fake docker: " + path + " exists and is not a socket; refusing to replace it");
    }
    ::unlink(path.c_str());
  }
  if (path.size() >= 108) throw Error("fake docker: socket path too long (max 107): " + path);
  impl_->loop.post_and_wait([&] {
    auto acceptor = std::make_unique<Local::acceptor>(impl_->loop.context());
    error_code ec;
    acceptor->open(Local(), ec);
    if (!ec) acceptor->bind(Local::endpoint(path), ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw Error("fake docker: listen on " + path + ": " + ec.message());
    impl_->unix_acceptor = std::move(acceptor);
    impl_->unix_path = path;
    impl_->accept_on<Local::socket>(*impl_->unix_acceptor);
  });
}

std::uint16_t HttpServer::listen_tcp(const std::string& host, std::uint16_t port) {
  return impl_->loop.post_and_wait([&] {
    error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec || !address.is_loopback()) {
      throw Error("fake docker: '" + host + "' is not a loopback address");
    }
    auto acceptor = std::make_unique<Tcp::acceptor>(impl_->loop.context());
    const Tcp::endpoint ep(address, port);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(Tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw Error("fake docker: listen on " + host + ":" + std::to_string(port) + ": " +
                  ec.message());
    impl_->tcp_acceptor = std::move(acceptor);
    impl_->accept_on<Tcp::socket>(*impl_->tcp_acceptor);
    return impl_->tcp_acceptor->local_endpoint().port();
  });
}

void HttpServer::stop() {
  auto impl = impl_;
  try {
    impl->loop.post_and_wait([impl] {
      if (impl->stopped) return;
      impl->stopped = true;
      error_code ignored;
      if (impl->unix_acceptor) impl->unix_acceptor->close(ignored);
      if (impl->tcp_acceptor) impl->tcp_acceptor->close(ignored);
      for (auto& c : impl->closers) c.second();
      impl->closers.clear();
      impl->held.clear();
    });
  } catch (const std::exception&) {
    // The loop is stopped already; its sockets go with the io_context.
  }
  if (!impl->unix_path.empty()) {
    ::unlink(impl->unix_path.c_str());
    impl->unix_path.clear();
  }
}

void HttpServer::set_stalled(bool stalled) {
  impl_->stalled.store(stalled);
  if (stalled) return;
  auto impl = impl_;
  impl->loop.post([impl] {
    if (impl->stalled.load()) return;
    auto held = std::move(impl->held);
    impl->held.clear();
    for (auto& serve : held) serve();
  });
}

std::uint64_t HttpServer::requests_served() const {
  return impl_->served.load();
}

}  // namespace faultline::fakes::docker
