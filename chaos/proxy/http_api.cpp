#include "chaos/proxy/http_api.h"

#include <chrono>
#include <set>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "chaos/proxy/api_routes.h"
#include "chaos/proxy/proxy_server.h"
#include "harness/core/log.h"

namespace faultline::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kBodyLimit = 1 << 20;
constexpr std::chrono::seconds kIdle{60};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ProxyServer& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {}

  void start() { read(); }
  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kIdle);
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
      const int status = too_big ? 413 : 400;
      const std::string message =
          too_big ? "request body too large" : "bad request: " + ec.message();
      return respond({status, "application/json",
                      nlohmann::json{{"error", message}, {"status", status}}.dump()},
                     false, 11);
    }
    auto& req = parser_->get();
    const ApiReply reply =
        route_api_request(server_, std::string(req.method_string()), std::string(req.target()),
                          req.body(), std::string(req[http::field::user_agent]));
    respond(reply, req.keep_alive(), req.version());
  }

  void respond(const ApiReply& reply, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version);
    res->set(http::field::server, "faultline-proxy");
    if (!reply.content_type.empty()) res->set(http::field::content_type, reply.content_type);
    res->body() = reply.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(kIdle);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read();
                      });
  }

  ProxyServer& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

struct HttpApi::Impl : std::enable_shared_from_this<Impl> {
  Impl(ProxyServer& s) : server(s), acceptor(s.loop().context()) {}

  ProxyServer& server;
  tcp::acceptor acceptor;
  std::string address;
  std::uint16_t port = 0;
  std::vector<std::weak_ptr<Session>> sessions;
  bool stopped = false;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
      if (self->stopped) return;
      if (!ec) {
        auto session = std::make_shared<Session>(self->server, std::move(socket));
        std::erase_if(self->sessions, [](const auto& w) { return w.expired(); });
        self->sessions.push_back(session);
        session->start();
      }
      self->accept();
    });
  }
};

HttpApi::HttpApi(ProxyServer& server, const std::string& listen)
    : impl_(std::make_shared<Impl>(server)) {
  server.loop().post_and_wait([&] {
    auto [host, port] = split_host_port(listen, "api address");
    if (host.empty()) host = "127.0.0.1";
    error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) throw ApiError(400, "api address '" + listen + "' is not an IP address");
    const tcp::endpoint ep(address, static_cast<std::uint16_t>(std::stoul(port)));
    auto& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw ApiError(ec == asio::error::address_in_use ? 409 : 400,
                     "api listen " + listen + ": " + ec.message());
    }
    const auto local = a.local_endpoint();
    impl_->port = local.port();
    impl_->address = (local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                              : local.address().to_string()) +
                     ":" + std::to_string(local.port());
    impl_->accept();
  });
  log::info("proxy", "api listening", {{"address", impl_->address}});
}

HttpApi::~HttpApi() {
  auto impl = impl_;
  try {
    impl->server.loop().post_and_wait([impl] {
      impl->stopped = true;
      error_code ignored;
      impl->acceptor.close(ignored);
      for (auto& w : impl->sessions) {
        if (auto s = w.lock()) s->close();
      }
      impl->sessions.clear();
    });
  } catch (const std::exception&) {
    // The loop is already stopped: its sockets go with the io_context.
  }
}

const std::string& HttpApi::address() const {
  return impl_->address;
}

std::uint16_t HttpApi::port() const {
  return impl_->port;
}

}  // namespace faultline::proxy
