// ServiceExporter following a service that moves: after update_address() its /health and
// /metrics read the new address. The service is a plain TCP listener on loopback (the exporter's
// check for a kind it has no protocol for is a connect).
#include <gtest/gtest.h>

#include "harness/core/error.h"
#include "harness/ops/service_exporter.h"
#include "harness/testing/net_testing.h"

namespace faultline::ops {
namespace {

using faultline::testing::Fd;
using faultline::testing::http;
using faultline::testing::listen_local;

ServiceAddress tcp_at(int port) {
  ServiceAddress a;
  a.kind = "tcp";
  a.host = "127.0.0.1";
  a.port = port;
  return a;
}

TEST(ServiceExporter, FollowsAServiceToItsNewAddress) {
  std::uint16_t first_port = 0;
  std::optional<Fd> first(listen_local(&first_port));
  ServiceExporter exporter({{"web", tcp_at(first_port)}},
                           {.check_timeout = std::chrono::milliseconds(10'000),
                            .read_timeout = std::chrono::milliseconds(2'000)});
  exporter.start();
  const std::uint16_t api = exporter.port("web");
  EXPECT_EQ(http(api, "GET", "/health").status, 200);

  first.reset();  // the service goes; it comes back elsewhere
  const auto down = http(api, "GET", "/health");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_NE(http(api, "GET", "/metrics").body.find("faultline_exporter_up_ratio{"),
            std::string::npos);

  std::uint16_t second_port = 0;
  const Fd second = listen_local(&second_port);
  EXPECT_TRUE(exporter.update_address("web", tcp_at(second_port)));
  EXPECT_FALSE(exporter.update_address("web", tcp_at(second_port))) << "unchanged";
  const auto up = http(api, "GET", "/health");
  EXPECT_EQ(up.status, 200) << up.body;
  EXPECT_NE(http(api, "GET", "/metrics").body.find("kind=\"tcp\",service=\"web\"} 1"),
            std::string::npos)
      << http(api, "GET", "/metrics").body;
  EXPECT_EQ(exporter.services().at(0).address.port, second_port);
  EXPECT_EQ(exporter.port("web"), api) << "the endpoint itself stays where it was";
}

TEST(ServiceExporter, UpdateAddressRejectsUnknownServicesAndBadAddresses) {
  std::uint16_t port = 0;
  const Fd listener = listen_local(&port);
  ServiceExporter exporter({{"web", tcp_at(port)}});
  EXPECT_THROW(exporter.update_address("db", tcp_at(port)), UsageError);
  try {
    exporter.update_address("web", tcp_at(70000));
    FAIL() << "a port out of range was taken";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("port 70000"), std::string::npos) << e.what();
  }
  EXPECT_EQ(exporter.services().at(0).address.port, port) << "a rejected update changes nothing";
}

}  // namespace
}  // namespace faultline::ops
