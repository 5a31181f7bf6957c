#include "harness/core/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "harness/core/event_loop.h"
#include "harness/testing/net_testing.h"

namespace faultline {
namespace {

using testing::http;

HttpReply echo_handler(const HttpRequest& req) {
  if (req.path == "/boom") throw Error("the handler broke");
  return HttpReply::json(200, {{"method", req.method},
                               {"path", req.path},
                               {"query", req.query},
                               {"body", req.body},
                               {"agent", req.header("x-agent")}});
}

TEST(HttpServerTest, HandsEachRequestToTheHandlerAndSendsItsReply) {
  EventLoop loop;
  HttpServer server(loop, echo_handler);
  server.start();
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(server.address(), "127.0.0.1:" + std::to_string(server.port()));
  const auto r = http(server.port(), "POST", "/things/a?x=1", "hello", "X-Agent: test\r\n");
  ASSERT_EQ(r.status, 200);
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["path"], "/things/a");
  EXPECT_EQ(body["query"], "x=1");
  EXPECT_EQ(body["body"], "hello");
  EXPECT_EQ(body["agent"], "test");
  EXPECT_NE(r.headers.find("application/json"), std::string::npos);
}

TEST(HttpServerTest, AHandlerExceptionIs500NamingIt) {
  EventLoop loop;
  HttpServer server(loop, echo_handler);
  server.start();
  const auto r = http(server.port(), "GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "the handler broke");
}

TEST(HttpServerTest, GarbageIs400AndTooLargeIs413AndTheServerKeepsServing) {
  EventLoop loop;
  HttpServerOptions options;
  options.body_limit = 16;
  HttpServer server(loop, echo_handler, options);
  server.start();
  {
    auto fd = testing::connect_local(server.port());
    testing::send_all(fd.get(), "NOT HTTP AT ALL\r\n\r\n");
    const auto r = testing::read_until(fd.get(), SIZE_MAX);
    EXPECT_NE(r.data.find(" 400 "), std::string::npos) << r.data;
    EXPECT_TRUE(r.eof);
  }
  EXPECT_EQ(http(server.port(), "POST", "/x", std::string(17, 'a')).status, 413);
  EXPECT_EQ(http(server.port(), "POST", "/x", std::string(16, 'a')).status, 200);
}

TEST(HttpServerTest, RefusesANonLoopbackAddressUnlessAllowed) {
  EventLoop loop;
  HttpServerOptions options;
  options.host = "0.0.0.0";
  EXPECT_THROW(HttpServer(loop, echo_handler, options), InputError);
  options.host = "not-an-address";
  EXPECT_THROW(HttpServer(loop, echo_handler, options), InputError);
}

TEST(HttpServerTest, AnAddressInUseIsItsOwnError) {
  EventLoop loop;
  HttpServer first(loop, echo_handler);
  first.start();
  HttpServerOptions options;
  options.port = first.port();
  HttpServer second(loop, echo_handler, options);
  EXPECT_THROW(second.start(), AddressInUse);
}

TEST(HttpServerTest, StopClosesConnectionsAndIsIdempotent) {
  EventLoop loop;
  HttpServer server(loop, echo_handler);
  server.start();
  const auto port = server.port();
  auto idle = testing::connect_local(port);
  ASSERT_TRUE(idle);
  ASSERT_TRUE(testing::eventually([&] { return http(port, "GET", "/").status == 200; }));
  server.stop();
  server.stop();
  const auto r = testing::read_until(idle.get(), 1);
  EXPECT_TRUE(r.eof || r.error != 0);
  EXPECT_FALSE(testing::connect_local(port));
}

TEST(HttpServerTest, ParsesHostAndPort) {
  EXPECT_EQ(parse_host_port("127.0.0.1:80", "api"),
            std::make_pair(std::string("127.0.0.1"), std::uint16_t{80}));
  EXPECT_EQ(parse_host_port("[::1]:0", "api"),
            std::make_pair(std::string("::1"), std::uint16_t{0}));
  EXPECT_EQ(parse_host_port(":8474", "api").first, "");
  EXPECT_THROW(parse_host_port("localhost", "api"), InputError);
  EXPECT_THROW(parse_host_port("h:99999", "api"), InputError);
  EXPECT_THROW(parse_host_port("h:8x", "api"), InputError);
}

}  // namespace
}  // namespace faultline
