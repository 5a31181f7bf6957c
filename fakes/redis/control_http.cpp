#include "fakes/redis/control_http.h"

#include <nlohmann/json.hpp>

#include "fakes/redis/server.h"
#include "harness/core/error.h"
#include "harness/core/http_server.h"

namespace faultline::fakes::redis {

namespace {

HttpReply route(RedisFake& fake, const HttpRequest& req) {
  const std::string& path = req.path;
  const std::string& method = req.method;
  if (path == "/health") {
    if (method != "GET") return HttpReply::error(405, "use GET");
    return HttpReply::json(200, {{"status", "ok"}, {"redis", fake.endpoint()}});
  }
  if (path == "/faults") {
    if (method != "GET") return HttpReply::error(405, "use GET");
    return HttpReply::json(200, fake.faults().to_json());
  }
  if (path == "/reset") {
    if (method != "POST") return HttpReply::error(405, "use POST");
    fake.heal_all();
    return HttpReply::json(200, {{"faults", fake.faults().to_json()}});
  }
  const std::string prefix = "/faults/";
  if (path.rfind(prefix, 0) != 0 || path.size() == prefix.size()) {
    return HttpReply::error(404, "no such resource: " + path);
  }
  const std::string name = path.substr(prefix.size());
  nlohmann::json params = nlohmann::json::object();
  if (!req.body.empty()) {
    params = nlohmann::json::parse(req.body, nullptr, false);
    if (params.is_discarded()) return HttpReply::error(400, "body is not JSON");
    if (!params.is_object()) return HttpReply::error(400, "body must be a JSON object");
  }
  try {
    if (method == "POST") {
      fake.inject(name, params);
      return HttpReply::json(200, {{"injected", name}, {"faults", fake.faults().to_json()}});
    }
    if (method == "DELETE") {
      fake.heal(name, params);
      return HttpReply::json(200, {{"healed", name}, {"faults", fake.faults().to_json()}});
    }
  } catch (const InputError& e) {
    return HttpReply::error(400, e.problem());
  }
  return HttpReply::error(405, "use POST or DELETE");
}

HttpServerOptions options_for(std::string host, std::uint16_t port) {
  HttpServerOptions o;
  o.host = std::move(host);
  o.port = port;
  o.body_limit = 64 * 1024;
  o.server_name = "faultline-fake-redis";
  return o;
}

}  // namespace

struct RedisControlEndpoint::Impl {
  Impl(EventLoop& loop, RedisFake& fake, std::string host, std::uint16_t port)
      : server(
            loop, [&fake](const HttpRequest& req) { return route(fake, req); },
            options_for(std::move(host), port)) {}
  HttpServer server;
};

RedisControlEndpoint::RedisControlEndpoint(EventLoop& loop, RedisFake& fake, std::string host,
                                           std::uint16_t port)
    : impl_(std::make_unique<Impl>(loop, fake, std::move(host), port)) {}

RedisControlEndpoint::~RedisControlEndpoint() = default;

void RedisControlEndpoint::start() {
  impl_->server.start();
}

void RedisControlEndpoint::stop() {
  impl_->server.stop();
}

std::uint16_t RedisControlEndpoint::port() const {
  return impl_->server.port();
}

}  // namespace faultline::fakes::redis
