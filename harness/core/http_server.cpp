#include "harness/core/http_server.h"

#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
// GCC 12 reports -Wmaybe-uninitialized inside Beast's HTTP parser when it is inlined under
// -fsanitize (a false positive in boost/beast/http/impl/basic_parser.hpp, not in this file).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "harness/core/event_loop.h"
#include "harness/core/log.h"

namespace faultline {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

std::string HttpRequest::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpReply HttpReply::json(int status, const nlohmann::json& body) {
  HttpReply r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpReply HttpReply::error(int status, const std::string& message) {
  return json(status, {{"error", message}, {"status", status}});
}

HttpReply HttpReply::text(int status, std::string body, std::string content_type) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

std::pair<std::string, std::uint16_t> parse_host_port(const std::string& address,
                                                      const std::string& what) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw InputError({}, what + " '" + address + "' is not host:port");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
      std::stoul(port) > 65535) {
    throw InputError({}, what + " '" + address + "': '" + port + "' is not a port (0-65535)");
  }
  return {host, static_cast<std::uint16_t>(std::stoul(port))};
}

namespace {

HttpRequest to_request(http::request<http::string_body>& req) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  const auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(field.value());
  }
  r.body = std::move(req.body());
  return r;
}

// What every connection of one server shares; kept alive by its connections, so a completion
// that runs after the server is gone still finds it.
struct Service {
  HttpHandler handler;
  HttpServerOptions options;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const Service> service)
      : stream_(std::move(socket)),
        service_(std::move(service)),
        handler_(service_->handler),
        options_(service_->options) {}

  void start() { read(); }
  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(options_.body_limit);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(options_.idle);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
      return close();
    }
    if (ec) {
      const bool too_big = ec == http::error::body_limit;
      return respond(too_big ? HttpReply::error(413, "request body too large")
                             : HttpReply::error(400, "bad request: " + ec.message()),
                     false, 11);
    }
    auto& req = parser_->get();
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    HttpRequest request = to_request(req);
    HttpReply reply;
    try {
      reply = handler_(request);
    } catch (const std::exception& e) {
      log::error("http", "handler failed",
                 {{"method", request.method}, {"target", request.target}, {"error", e.what()}});
      reply = HttpReply::error(500, e.what());
    }
    respond(reply, keep_alive, version);
  }

  void respond(const HttpReply& reply, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version);
    res->set(http::field::server, options_.server_name);
    if (!reply.content_type.empty()) res->set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res->set(name, value);
    res->body() = reply.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(options_.idle);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read();
                      });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<const Service> service_;
  const HttpHandler& handler_;
  const HttpServerOptions& options_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(EventLoop& l, HttpHandler h, HttpServerOptions o)
      : loop(l),
        service(std::make_shared<const Service>(Service{std::move(h), std::move(o)})),
        options(service->options) {}

  EventLoop& loop;
  std::shared_ptr<const Service> service;
  const HttpServerOptions& options;
  std::optional<tcp::acceptor> acceptor;
  std::uint16_t port = 0;
  std::string address;
  std::vector<std::weak_ptr<Session>> sessions;

  void accept() {
    acceptor->async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
      if (!self->acceptor || ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto session = std::make_shared<Session>(std::move(socket), self->service);
        std::erase_if(self->sessions, [](const auto& w) { return w.expired(); });
        self->sessions.push_back(session);
        session->start();
      }
      self->accept();
    });
  }

  void close_all() {
    if (acceptor) {
      error_code ignored;
      acceptor->close(ignored);
      acceptor.reset();
    }
    for (auto& w : sessions) {
      if (auto s = w.lock()) s->close();
    }
    sessions.clear();
  }
};

HttpServer::HttpServer(EventLoop& loop, HttpHandler handler, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(loop, std::move(handler), std::move(options))) {
  error_code ec;
  const auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) throw InputError({}, "'" + impl_->options.host + "' is not an IP address");
  if (impl_->options.loopback_only && !address.is_loopback()) {
    throw InputError({}, "'" + impl_->options.host +
                             "' is not a loopback address (control APIs bind loopback only)");
  }
}

HttpServer::~HttpServer() {
  try {
    stop();
  } catch (const std::exception& e) {
    log::error("http", "stop failed", {{"error", e.what()}});
  }
}

void HttpServer::start() {
  auto impl = impl_;
  impl->loop.post_and_wait([impl] {
    if (impl->acceptor) return;
    const tcp::endpoint ep(asio::ip::make_address(impl->options.host), impl->options.port);
    const std::string wanted = impl->options.host + ":" + std::to_string(impl->options.port);
    tcp::acceptor acceptor(impl->loop.context());
    error_code ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec == asio::error::address_in_use) {
      throw AddressInUse("cannot listen on " + wanted + ": " + ec.message());
    }
    if (ec) throw Error("cannot listen on " + wanted + ": " + ec.message());
    const auto local = acceptor.local_endpoint();
    impl->port = local.port();
    impl->address = (local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                             : local.address().to_string()) +
                    ":" + std::to_string(local.port());
    impl->acceptor.emplace(std::move(acceptor));
    impl->accept();
  });
}

void HttpServer::stop() {
  auto impl = impl_;
  if (impl->loop.stopped()) {
    // The loop has stopped: its sockets go with the io_context; forget them here.
    impl->acceptor.reset();
    impl->sessions.clear();
    return;
  }
  impl->loop.post_and_wait([impl] { impl->close_all(); });
}

std::uint16_t HttpServer::port() const {
  return impl_->port;
}

std::string HttpServer::address() const {
  return impl_->address;
}

}  // namespace faultline
