#include "fakes/postgres/control_server.h"

#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include "fakes/postgres/postgres_fake.h"
#include "harness/core/error.h"
#include "harness/core/http_server.h"

namespace faultline::pg {

using nlohmann::json;

namespace {

HttpReply json_reply(const json& j, int status = 200) {
  return HttpReply::json(status, j);
}

HttpReply error_reply(int status, const std::string& message) {
  return HttpReply::error(status, message);
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

HttpReply route_request(PostgresFake& fake, const std::string& verb, const std::string& target,
                        const std::string& body) {
  const auto ok = [] { return json_reply(json{{"ok", true}}); };
  if (verb == "GET" && target == "/status") return json_reply(fake.status());
  if (target == "/faults/max_connections") {
    if (verb == "PUT") {
      const json j = body_json(body);
      if (!j.contains("limit") || !j["limit"].is_number_integer() || j["limit"].get<int>() < 0) {
        throw InputError({}, "\"limit\" (a non-negative integer) is required");
      }
      fake.set_max_connections(j["limit"].get<int>());
      return ok();
    }
    if (verb == "DELETE") {
      fake.reset_max_connections();
      return ok();
    }
  }
  if (target == "/faults/refuse_connections" && (verb == "PUT" || verb == "DELETE")) {
    fake.set_refuse_connections(verb == "PUT");
    return ok();
  }
  if (target == "/faults/read_only" && (verb == "PUT" || verb == "DELETE")) {
    fake.set_read_only(verb == "PUT");
    return ok();
  }
  if (target == "/faults/slow_queries" && verb == "POST") {
    const json j = body_json(body);
    return json_reply(
        json{{"id", fake.add_slow_query(required_string(j, "pattern"), millis(j, "delay_ms"))}});
  }
  if (target == "/faults/query_errors" && verb == "POST") {
    const json j = body_json(body);
    return json_reply(json{
        {"id", fake.add_query_error(required_string(j, "pattern"), required_string(j, "sqlstate"),
                                    required_string(j, "message"), j.value("fatal", false))}});
  }
  if (target.rfind("/faults/rules/", 0) == 0 && verb == "DELETE") {
    std::uint64_t id = 0;
    try {
      id = std::stoull(target.substr(14));
    } catch (const std::exception&) {
      return error_reply(400, "rule id must be a number");
    }
    if (!fake.remove_query_rule(id)) return error_reply(404, "no such rule");
    return ok();
  }
  if (target == "/actions/crash" && verb == "POST") {
    fake.crash(millis(body_json(body), "refuse_ms"));
    return ok();
  }
  if (target == "/actions/admin_shutdown" && verb == "POST") {
    fake.admin_shutdown(millis(body_json(body), "refuse_ms"));
    return ok();
  }
  if (target == "/faults" && verb == "DELETE") {
    fake.heal_all();
    return ok();
  }
  if (target == "/dump" && verb == "GET") {
    return HttpReply::text(200, fake.dump(), "application/sql");
  }
  if (target == "/load" && verb == "POST") {
    try {
      fake.load(body);
    } catch (const SqlError& e) {
      return error_reply(400, e.sqlstate + ": " + e.message);
    }
    return ok();
  }
  return error_reply(404, "no route " + verb + " " + target);
}

HttpReply route(PostgresFake& fake, const HttpRequest& req) {
  try {
    return route_request(fake, req.method, req.path, req.body);
  } catch (const InputError& e) {
    return error_reply(400, e.problem());
  }
}

}  // namespace

struct ControlServer::Impl {
  Impl(EventLoop& loop, PostgresFake& fake, std::string host, std::uint16_t port)
      : loop(loop), fake(fake), host(std::move(host)), port(port) {}
  EventLoop& loop;
  PostgresFake& fake;
  std::string host;
  std::uint16_t port;
  std::optional<HttpServer> server;
};

ControlServer::ControlServer(EventLoop& loop, PostgresFake& fake, std::string host,
                             std::uint16_t port)
    : impl_(std::make_shared<Impl>(loop, fake, std::move(host), port)) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::start() {
  if (impl_->server) return;
  HttpServerOptions options;
  options.host = impl_->host;
  options.port = impl_->port;
  options.server_name = "faultline-fake-postgres";
  try {
    PostgresFake& fake = impl_->fake;
    impl_->server.emplace(
        impl_->loop, [&fake](const HttpRequest& req) { return route(fake, req); }, options);
    impl_->server->start();
  } catch (const Error& e) {
    impl_->server.reset();
    throw Error("control endpoint: " + std::string(e.what()));
  }
}

void ControlServer::stop() {
  if (impl_->server) impl_->server->stop();
}

std::uint16_t ControlServer::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

}  // namespace faultline::pg
