#include "fakes/kafka/control_http.h"

#include "fakes/kafka/control_api.h"
#include "fakes/kafka/fake_kafka.h"
#include "harness/core/http_server.h"

namespace faultline::fakes::kafka {

namespace {

HttpServerOptions options_for(std::string host, std::uint16_t port) {
  HttpServerOptions o;
  o.host = std::move(host);
  o.port = port;
  o.body_limit = 64 * 1024;
  o.server_name = "faultline-fake-kafka";
  return o;
}

HttpReply serve(FakeKafkaCluster& kafka, const HttpRequest& req) {
  const ControlReply reply = handle_control_request(kafka, req.method, req.path, req.body);
  if (reply.status != 200 && reply.body.contains("error")) {
    return HttpReply::error(reply.status, reply.body["error"].get<std::string>());
  }
  return HttpReply::json(reply.status, reply.body);
}

}  // namespace

struct KafkaControlEndpoint::Impl {
  Impl(EventLoop& loop, FakeKafkaCluster& kafka, std::string host, std::uint16_t port)
      : server(
            loop, [&kafka](const HttpRequest& req) { return serve(kafka, req); },
            options_for(std::move(host), port)) {}
  HttpServer server;
};

KafkaControlEndpoint::KafkaControlEndpoint(EventLoop& loop, FakeKafkaCluster& kafka,
                                           std::string host, std::uint16_t port)
    : impl_(std::make_unique<Impl>(loop, kafka, std::move(host), port)) {}

KafkaControlEndpoint::~KafkaControlEndpoint() = default;

void KafkaControlEndpoint::start() {
  impl_->server.start();
}
void KafkaControlEndpoint::stop() {
  impl_->server.stop();
}
std::uint16_t KafkaControlEndpoint::port() const {
  return impl_->server.port();
}

}  // namespace faultline::fakes::kafka
