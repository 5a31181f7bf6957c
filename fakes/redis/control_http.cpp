#include "fakes/redis/control_http.h"

#include <map>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
// GCC 12 reports -Wmaybe-uninitialized inside Beast's HTTP parser when it is inlined here under
// -fsanitize (a false positive in boost/beast/http/impl/basic_parser.hpp, not in this file).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "fakes/redis/server.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/log.h"

namespace faultline::fakes::redis {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Reply {
  http::status status = http::status::ok;
  nlohmann::json body;
};

Reply error_reply(http::status status, const std::string& message) {
  return {status, {{"error", message}}};
}

Reply route(RedisFake& fake, const http::request<http::string_body>& req) {
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  const auto method = req.method();
  if (path == "/health") {
    if (method != http::verb::get) return error_reply(http::status::method_not_allowed, "use GET");
    return {http::status::ok, {{"status", "ok"}, {"redis", fake.endpoint()}}};
  }
  if (path == "/faults") {
    if (method != http::verb::get) return error_reply(http::status::method_not_allowed, "use GET");
    return {http::status::ok, fake.faults().to_json()};
  }
  if (path == "/reset") {
    if (method != http::verb::post) {
      return error_reply(http::status::method_not_allowed, "use POST");
    }
    fake.heal_all();
    return {http::status::ok, {{"faults", fake.faults().to_json()}}};
  }
  const std::string prefix = "/faults/";
  if (path.rfind(prefix, 0) != 0 || path.size() == prefix.size()) {
    return error_reply(http::status::not_found, "no such resource: " + path);
  }
  const std::string name = path.substr(prefix.size());
  nlohmann::json params = nlohmann::json::object();
  if (!req.body().empty()) {
    params = nlohmann::json::parse(req.body(), nullptr, false);
    if (params.is_discarded()) return error_reply(http::status::bad_request, "body is not JSON");
    if (!params.is_object()) {
      return error_reply(http::status::bad_request, "body must be a JSON object");
    }
  }
  try {
    if (method == http::verb::post) {
      fake.inject(name, params);
      return {http::status::ok, {{"injected", name}, {"faults", fake.faults().to_json()}}};
    }
    if (method == http::verb::delete_) {
      fake.heal(name, params);
      return {http::status::ok, {{"healed", name}, {"faults", fake.faults().to_json()}}};
    }
  } catch (const InputError& e) {
    return error_reply(http::status::bad_request, e.problem());
  }
  return error_reply(http::status::method_not_allowed, "use POST or DELETE");
}

class ControlSession : public std::enable_shared_from_this<ControlSession> {
 public:
  ControlSession(tcp::socket socket, RedisFake& fake) : socket_(std::move(socket)), fake_(fake) {}

  void start() { read(); }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024);
    parser_->header_limit(16 * 1024);
    auto self = shared_from_this();
    http::async_read(socket_, buffer_, *parser_,
                     [self](const boost::system::error_code& ec, std::size_t) {
                       if (ec) {
                         self->close();
                         return;
                       }
                       self->respond(self->parser_->release());
                     });
  }

  void respond(http::request<http::string_body> req) {
    Reply reply;
    try {
      reply = route(fake_, req);
    } catch (const std::exception& e) {
      reply = error_reply(http::status::internal_server_error, e.what());
    }
    response_ = {};
    response_.result(reply.status);
    response_.version(req.version());
    response_.set(http::field::content_type, "application/json");
    response_.keep_alive(req.keep_alive());
    response_.body() = reply.body.dump() + "\n";
    response_.prepare_payload();
    auto self = shared_from_this();
    http::async_write(socket_, response_, [self](const boost::system::error_code& ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) {
        boost::system::error_code ignored;
        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
        self->close();
        return;
      }
      self->read();
    });
  }

  tcp::socket socket_;
  RedisFake& fake_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

struct RedisControlEndpoint::Impl {
  EventLoop& loop;
  RedisFake& fake;
  std::string host;
  std::uint16_t requested_port;
  std::optional<tcp::acceptor> acceptor;
  std::uint16_t port = 0;
  std::map<ControlSession*, std::weak_ptr<ControlSession>> sessions;
  std::shared_ptr<int> alive;  // dropped on the loop by stop(); queued handlers check it first

  void accept() {
    std::weak_ptr<int> token = alive;
    acceptor->async_accept([this, token](const boost::system::error_code& ec, tcp::socket socket) {
      if (token.expired() || ec == asio::error::operation_aborted || !acceptor) return;
      if (!ec) {
        auto session = std::make_shared<ControlSession>(std::move(socket), fake);
        // Forget sessions that have finished before remembering this one.
        std::erase_if(sessions, [](const auto& kv) { return kv.second.expired(); });
        sessions.emplace(session.get(), session);
        session->start();
      }
      accept();
    });
  }
};

RedisControlEndpoint::RedisControlEndpoint(EventLoop& loop, RedisFake& fake, std::string host,
                                           std::uint16_t port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec || !address.is_loopback()) {
    throw InputError({}, "control endpoint: '" + host + "' is not a loopback address");
  }
  impl_ = std::make_unique<Impl>(Impl{loop, fake, std::move(host), port, {}, 0, {}, {}});
}

RedisControlEndpoint::~RedisControlEndpoint() {
  try {
    stop();
  } catch (const std::exception& e) {
    log::error("redis-fake", "control endpoint stop failed", {{"error", e.what()}});
  }
}

void RedisControlEndpoint::start() {
  impl_->loop.post_and_wait([this] {
    if (impl_->acceptor) return;
    const tcp::endpoint ep(asio::ip::make_address(impl_->host), impl_->requested_port);
    tcp::acceptor acceptor(impl_->loop.context());
    boost::system::error_code ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw Error("control endpoint: cannot listen on " + impl_->host + ":" +
                  std::to_string(impl_->requested_port) + ": " + ec.message());
    }
    impl_->port = acceptor.local_endpoint().port();
    impl_->acceptor.emplace(std::move(acceptor));
    impl_->alive = std::make_shared<int>(0);
    impl_->accept();
  });
}

void RedisControlEndpoint::stop() {
  if (impl_->loop.stopped()) return;
  impl_->loop.post_and_wait([this] {
    if (!impl_->acceptor) return;
    impl_->alive.reset();
    boost::system::error_code ignored;
    impl_->acceptor->close(ignored);
    impl_->acceptor.reset();
    for (auto& [ptr, weak] : impl_->sessions) {
      if (auto s = weak.lock()) s->close();
    }
    impl_->sessions.clear();
  });
}

std::uint16_t RedisControlEndpoint::port() const {
  return impl_->loop.post_and_wait([this] { return impl_->port; });
}

}  // namespace faultline::fakes::redis
