#include "fakes/postgres/control_server.h"

#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "fakes/postgres/postgres_fake.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/log.h"

namespace faultline::pg {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

struct Reply {
  http::status status = http::status::ok;
  std::string body;
  std::string content_type = "application/json";
};

Reply json_reply(const json& j, http::status status = http::status::ok) {
  return Reply{status, j.dump() + "\n", "application/json"};
}

Reply error_reply(http::status status, const std::string& message) {
  return json_reply(json{{"error", message}}, status);
}

json body_json(const std::string& body) {
  if (body.empty()) return json::object();
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError({}, "the body is not a JSON object");
  return j;
}

std::chrono::nanoseconds millis(const json& j, const char* key) {
  if (!j.contains(key)) return std::chrono::nanoseconds(0);
  if (!j[key].is_number() || j[key].get<double>() < 0) {
    throw InputError({}, std::string("\"") + key + "\" must be a non-negative number");
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(j[key].get<double>() * 1e6));
}

std::string required_string(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) {
    throw InputError({}, std::string("\"") + key + "\" (a string) is required");
  }
  return j[key].get<std::string>();
}

Reply route(PostgresFake& fake, http::verb verb, const std::string& target,
            const std::string& body) {
  const auto ok = [] { return json_reply(json{{"ok", true}}); };
  if (verb == http::verb::get && target == "/status") return json_reply(fake.status());
  if (target == "/faults/max_connections") {
    if (verb == http::verb::put) {
      const json j = body_json(body);
      if (!j.contains("limit") || !j["limit"].is_number_integer() || j["limit"].get<int>() < 0) {
        throw InputError({}, "\"limit\" (a non-negative integer) is required");
      }
      fake.set_max_connections(j["limit"].get<int>());
      return ok();
    }
    if (verb == http::verb::delete_) {
      fake.reset_max_connections();
      return ok();
    }
  }
  if (target == "/faults/refuse_connections" &&
      (verb == http::verb::put || verb == http::verb::delete_)) {
    fake.set_refuse_connections(verb == http::verb::put);
    return ok();
  }
  if (target == "/faults/read_only" && (verb == http::verb::put || verb == http::verb::delete_)) {
    fake.set_read_only(verb == http::verb::put);
    return ok();
  }
  if (target == "/faults/slow_queries" && verb == http::verb::post) {
    const json j = body_json(body);
    return json_reply(
        json{{"id", fake.add_slow_query(required_string(j, "pattern"), millis(j, "delay_ms"))}});
  }
  if (target == "/faults/query_errors" && verb == http::verb::post) {
    const json j = body_json(body);
    return json_reply(json{
        {"id", fake.add_query_error(required_string(j, "pattern"), required_string(j, "sqlstate"),
                                    required_string(j, "message"), j.value("fatal", false))}});
  }
  if (target.rfind("/faults/rules/", 0) == 0 && verb == http::verb::delete_) {
    std::uint64_t id = 0;
    try {
      id = std::stoull(target.substr(14));
    } catch (const std::exception&) {
      return error_reply(http::status::bad_request, "rule id must be a number");
    }
    if (!fake.remove_query_rule(id)) return error_reply(http::status::not_found, "no such rule");
    return ok();
  }
  if (target == "/actions/crash" && verb == http::verb::post) {
    fake.crash(millis(body_json(body), "refuse_ms"));
    return ok();
  }
  if (target == "/actions/admin_shutdown" && verb == http::verb::post) {
    fake.admin_shutdown(millis(body_json(body), "refuse_ms"));
    return ok();
  }
  if (target == "/faults" && verb == http::verb::delete_) {
    fake.heal_all();
    return ok();
  }
  if (target == "/dump" && verb == http::verb::get) {
    return Reply{http::status::ok, fake.dump(), "application/sql"};
  }
  if (target == "/load" && verb == http::verb::post) {
    try {
      fake.load(body);
    } catch (const SqlError& e) {
      return error_reply(http::status::bad_request, e.sqlstate + ": " + e.message);
    }
    return ok();
  }
  return error_reply(http::status::not_found,
                     "no route " + std::string(http::to_string(verb)) + " " + target);
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, PostgresFake& fake) : stream_(std::move(socket)), fake_(fake) {}
  void start() {
    parser_.body_limit(1 << 20);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::body_limit)
        respond(error_reply(http::status::payload_too_large, "body too large"), 11);
      return;
    }
    const auto& request = parser_.get();
    Reply reply;
    try {
      reply = route(fake_, request.method(), std::string(request.target()), request.body());
    } catch (const InputError& e) {
      reply = error_reply(http::status::bad_request, e.problem());
    } catch (const std::exception& e) {
      reply = error_reply(http::status::bad_request, e.what());
    }
    respond(reply, request.version());
  }
  void respond(const Reply& reply, unsigned version) {
    response_ = std::make_shared<http::response<http::string_body>>(reply.status, version);
    response_->set(http::field::content_type, reply.content_type);
    response_->set(http::field::connection, "close");
    response_->body() = reply.body;
    response_->prepare_payload();
    http::async_write(stream_, *response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  PostgresFake& fake_;
};

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<ControlServer::Impl> {
  Impl(EventLoop& loop, PostgresFake& fake, std::string host, std::uint16_t port)
      : loop(loop), fake(fake), host(std::move(host)), port(port) {}
  void accept() {
    acceptor->async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec || !self->acceptor) return;
      std::make_shared<HttpSession>(std::move(socket), self->fake)->start();
      self->accept();
    });
  }
  EventLoop& loop;
  PostgresFake& fake;
  std::string host;
  std::uint16_t port;
  std::unique_ptr<tcp::acceptor> acceptor;
};

ControlServer::ControlServer(EventLoop& loop, PostgresFake& fake, std::string host,
                             std::uint16_t port)
    : impl_(std::make_shared<Impl>(loop, fake, std::move(host), port)) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::start() {
  impl_->loop.post_and_wait([impl = impl_] {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(impl->host, ec);
    if (ec || !address.is_loopback()) {
      throw Error("the control endpoint listens on loopback only, not " + impl->host);
    }
    try {
      tcp::endpoint endpoint(address, impl->port);
      auto a = std::make_unique<tcp::acceptor>(impl->loop.context());
      a->open(endpoint.protocol());
      a->set_option(tcp::acceptor::reuse_address(true));
      a->bind(endpoint);
      a->listen();
      impl->port = a->local_endpoint().port();
      impl->acceptor = std::move(a);
    } catch (const boost::system::system_error& e) {
      throw Error("control endpoint cannot listen on " + impl->host + ":" +
                  std::to_string(impl->port) + ": " + e.code().message());
    }
    impl->accept();
  });
}

void ControlServer::stop() {
  if (impl_->loop.stopped()) return;
  try {
    impl_->loop.post_and_wait([impl = impl_] {
      if (!impl->acceptor) return;
      boost::system::error_code ec;
      impl->acceptor->close(ec);
      impl->acceptor.reset();
    });
  } catch (const Error&) {
  }
}

std::uint16_t ControlServer::port() const {
  return impl_->loop.post_and_wait([impl = impl_] { return impl->port; });
}

}  // namespace faultline::pg
