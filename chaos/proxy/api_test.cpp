// The Toxiproxy-compatible HTTP API, route by route, including its errors, against an in-process
// ProxyServer; and the proxy's behaviour through it with an echo server on loopback.
#include <gtest/gtest.h>

#include "chaos/proxy/http_api.h"
#include "chaos/proxy/proxy_server.h"
#include "chaos/proxy/proxy_test_support.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "harness/testing/covers.h"

namespace faultline::proxy {
namespace {

using namespace testing;
using nlohmann::json;

struct ApiTest : ::testing::Test {
  RealClock clock;
  EventLoop loop;
  Journal journal{clock};
  ProxyServer server{loop, clock, faultline::testing::test_rng(), &journal};
  HttpApi api{server, "127.0.0.1:0"};
  EchoServer echo;

  HttpResult call(const std::string& method, const std::string& target, const json& body) {
    return http(api.port(), method, target, body.is_null() ? "" : body.dump());
  }
  HttpResult call(const std::string& method, const std::string& target) {
    return http(api.port(), method, target);
  }
  json create(const std::string& name, bool enabled = true) {
    auto r = call("POST", "/proxies",
                  {{"name", name},
                   {"listen", "127.0.0.1:0"},
                   {"upstream", "127.0.0.1:" + std::to_string(echo.port())},
                   {"enabled", enabled}});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }
  static std::uint16_t port_of(const json& proxy) {
    const std::string listen = proxy["listen"];
    return static_cast<std::uint16_t>(std::stoul(listen.substr(listen.rfind(':') + 1)));
  }
  static void expect_error(const HttpResult& r, int status, const std::string& message) {
    EXPECT_EQ(r.status, status) << r.body;
    const json body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_EQ(body["status"], status);
    EXPECT_NE(body["error"].get<std::string>().find(message), std::string::npos)
        << body["error"] << " lacks " << message;
  }
};

TEST_F(ApiTest, VersionAndEmptyIndex) {
  auto v = call("GET", "/version");
  EXPECT_EQ(v.status, 200);
  EXPECT_TRUE(json::parse(v.body)["version"].is_string());
  auto index = call("GET", "/proxies");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(json::parse(index.body), json::object());
}

TEST_F(ApiTest, CreateShowListAndProxyShape) {
  const json p = create("redis");
  EXPECT_EQ(p["name"], "redis");
  EXPECT_EQ(p["enabled"], true);
  EXPECT_EQ(p["toxics"], json::array());
  EXPECT_NE(port_of(p), 0);  // port 0 reported back as the chosen one
  auto show = call("GET", "/proxies/redis");
  EXPECT_EQ(show.status, 200);
  EXPECT_EQ(json::parse(show.body), p);
  EXPECT_EQ(json::parse(call("GET", "/proxies").body)["redis"], p);
}

TEST_F(ApiTest, CreateErrors) {
  expect_error(call("POST", "/proxies"), 400, "bad request body");
  expect_error(http(api.port(), "POST", "/proxies", "{not json"), 400, "bad request body");
  expect_error(call("POST", "/proxies", json{{"upstream", "127.0.0.1:1"}}), 400,
               "missing required field: name");
  expect_error(call("POST", "/proxies", json{{"name", "x"}}), 400,
               "missing required field: upstream");
  expect_error(call("POST", "/proxies", json{{"name", 5}, {"upstream", "127.0.0.1:1"}}), 400,
               "name must be a string");
  expect_error(call("POST", "/proxies", json{{"name", "x"}, {"upstream", "nocolon"}}), 400,
               "not host:port");
  create("dup");
  expect_error(call("POST", "/proxies",
                    json{{"name", "dup"}, {"upstream", "127.0.0.1:1"}, {"listen", "127.0.0.1:0"}}),
               409, "proxy already exists");
  // A listen address in use: 409, and nothing was created.
  const json taken = create("taken");
  expect_error(
      call("POST", "/proxies",
           json{{"name", "second"}, {"upstream", "127.0.0.1:1"}, {"listen", taken["listen"]}}),
      409, "in use");
  EXPECT_EQ(call("GET", "/proxies/second").status, 404);
}

// Blast radius: faults stay on this machine. An upstream off loopback is refused (403, nothing
// created, no connection attempted — 192.0.2.0/24 is TEST-NET-1) unless its host is allowed, as
// a stack file allows an external service marked chaos-allowed; updates are checked too.
TEST_F(ApiTest, UpstreamsOffLoopbackAreRefusedUnlessTheHostIsAllowed) {
  expect_error(call("POST", "/proxies", json{{"name", "far"}, {"upstream", "192.0.2.7:5432"}}), 403,
               "is not on loopback");
  EXPECT_EQ(call("GET", "/proxies/far").status, 404);
  create("near");
  expect_error(call("POST", "/proxies/near", json{{"upstream", "192.0.2.7:5432"}}), 403,
               "is not on loopback");
  EXPECT_EQ(json::parse(call("GET", "/proxies/near").body)["upstream"],
            "127.0.0.1:" + std::to_string(echo.port()));
  EXPECT_EQ(call("POST", "/proxies", json{{"name", "v6"}, {"upstream", "[::1]:5432"}}).status, 201);
  server.allow_remote_host("192.0.2.7");
  EXPECT_EQ(call("POST", "/proxies",
                 json{{"name", "far"}, {"upstream", "192.0.2.7:5432"}, {"enabled", false}})
                .status,
            201);
  expect_error(call("POST", "/proxies", json{{"name", "other"}, {"upstream", "192.0.2.8:5432"}}),
               403, "is not on loopback");
}

TEST_F(ApiTest, UpdateAndDeleteProxy) {
  const json p = create("svc");
  const std::uint16_t port = port_of(p);
  auto down = call("PATCH", "/proxies/svc", json{{"enabled", false}});
  EXPECT_EQ(down.status, 200) << down.body;
  EXPECT_EQ(json::parse(down.body)["enabled"], false);
  int err = 0;
  EXPECT_FALSE(connect_local(port, &err));
  EXPECT_EQ(err, ECONNREFUSED);
  auto up = call("POST", "/proxies/svc", json{{"enabled", true}});  // POST is Toxiproxy's old verb
  EXPECT_EQ(up.status, 200);
  EXPECT_EQ(json::parse(up.body)["listen"], p["listen"]);
  EXPECT_TRUE(connect_local(port));
  expect_error(call("PATCH", "/proxies/svc", json{{"enabled", "yes"}}), 400, "enabled");
  expect_error(call("PATCH", "/proxies/nope", json{{"enabled", false}}), 404, "proxy not found");
  EXPECT_EQ(call("DELETE", "/proxies/svc").status, 204);
  expect_error(call("DELETE", "/proxies/svc"), 404, "proxy not found");
  expect_error(call("GET", "/proxies/svc"), 404, "proxy not found");
}

TEST_F(ApiTest, ToxicRoutes) {
  create("p");
  auto created = call("POST", "/proxies/p/toxics",
                      json{{"type", "latency"}, {"attributes", {{"latency", 100}}}});
  EXPECT_EQ(created.status, 200) << created.body;
  const json t = json::parse(created.body);
  EXPECT_EQ(t, json({{"name", "latency_downstream"},
                     {"type", "latency"},
                     {"stream", "downstream"},
                     {"toxicity", 1.0},
                     {"attributes", {{"latency", 100}, {"jitter", 0}}}}));
  EXPECT_EQ(json::parse(call("GET", "/proxies/p/toxics").body), json::array({t}));
  EXPECT_EQ(json::parse(call("GET", "/proxies/p/toxics/latency_downstream").body), t);
  EXPECT_EQ(json::parse(call("GET", "/proxies/p").body)["toxics"], json::array({t}));
  auto updated = call("PATCH", "/proxies/p/toxics/latency_downstream",
                      json{{"attributes", {{"jitter", 5}}}, {"toxicity", 0.5}});
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(json::parse(updated.body)["attributes"]["jitter"], 5);
  EXPECT_EQ(json::parse(updated.body)["attributes"]["latency"], 100);
  EXPECT_EQ(json::parse(updated.body)["toxicity"], 0.5);
  EXPECT_EQ(call("DELETE", "/proxies/p/toxics/latency_downstream").status, 204);
  EXPECT_EQ(json::parse(call("GET", "/proxies/p/toxics").body), json::array());
}

TEST_F(ApiTest, ToxicErrorsChangeNothing) {
  create("p");
  expect_error(call("POST", "/proxies/nope/toxics", json{{"type", "latency"}}), 404,
               "proxy not found");
  expect_error(call("POST", "/proxies/p/toxics", json{{"type", "latensy"}}), 400,
               "invalid toxic type");
  expect_error(call("POST", "/proxies/p/toxics", json{{"type", "latency"}, {"stream", "up"}}), 400,
               "stream was invalid");
  expect_error(call("POST", "/proxies/p/toxics",
                    json{{"type", "latency"}, {"attributes", {{"latency", "slow"}}}}),
               400, "'latency' must be an integer");
  expect_error(call("POST", "/proxies/p/toxics",
                    json{{"type", "latency"}, {"attributes", {{"latency", -5}}}}),
               400, "'latency' must be between");
  expect_error(call("POST", "/proxies/p/toxics", json{{"type", "latency"}, {"toxicity", 2}}), 400,
               "toxicity");
  expect_error(http(api.port(), "POST", "/proxies/p/toxics", "[1,"), 400, "bad request body");
  EXPECT_EQ(call("POST", "/proxies/p/toxics", json{{"type", "timeout"}, {"name", "t"}}).status,
            200);
  expect_error(call("POST", "/proxies/p/toxics", json{{"type", "latency"}, {"name", "t"}}), 409,
               "toxic already exists");
  expect_error(call("GET", "/proxies/p/toxics/missing"), 404, "toxic not found");
  expect_error(call("PATCH", "/proxies/p/toxics/missing", json::object()), 404, "toxic not found");
  expect_error(call("PATCH", "/proxies/p/toxics/t", json{{"attributes", {{"timeout", -1}}}}), 400,
               "'timeout'");
  expect_error(call("DELETE", "/proxies/p/toxics/missing"), 404, "toxic not found");
  const json toxics = json::parse(call("GET", "/proxies/p/toxics").body);
  ASSERT_EQ(toxics.size(), 1u);
  EXPECT_EQ(toxics[0]["attributes"]["timeout"], 0);
}

TEST_F(ApiTest, PopulateIsAllOrNothing) {
  const std::string up = "127.0.0.1:" + std::to_string(echo.port());
  auto ok = call(
      "POST", "/populate",
      json::array(
          {json{{"name", "a"}, {"listen", "127.0.0.1:0"}, {"upstream", up}},
           json{{"name", "b"}, {"listen", "127.0.0.1:0"}, {"upstream", up}, {"enabled", false}}}));
  EXPECT_EQ(ok.status, 201) << ok.body;
  const json body = json::parse(ok.body);
  ASSERT_EQ(body["proxies"].size(), 2u);
  EXPECT_EQ(body["proxies"][1]["enabled"], false);
  // Populating again with the same proxies keeps them (same address, same upstream).
  const json a = json::parse(call("GET", "/proxies/a").body);
  auto again = call("POST", "/populate",
                    json::array({json{{"name", "a"}, {"listen", a["listen"]}, {"upstream", up}}}));
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(json::parse(call("GET", "/proxies/a").body)["listen"], a["listen"]);

  auto missing = call("POST", "/populate",
                      json::array({json{{"name", "c"}, {"upstream", up}}, json{{"name", "d"}}}));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body)["error"], "missing required field: upstream at proxy 2");
  EXPECT_TRUE(json::parse(missing.body)["proxies"].is_null());
  auto dup = call(
      "POST", "/populate",
      json::array({json{{"name", "e"}, {"upstream", up}}, json{{"name", "e"}, {"upstream", up}}}));
  EXPECT_EQ(dup.status, 400);
  expect_error(call("POST", "/populate", json{{"name", "x"}}), 400, "array");
  // A listen address in use makes the whole request fail and creates none of it.
  auto clash = call("POST", "/populate",
                    json::array({json{{"name", "f"}, {"upstream", up}},
                                 json{{"name", "g"}, {"listen", a["listen"]}, {"upstream", up}}}));
  EXPECT_EQ(clash.status, 409) << clash.body;
  const json all = json::parse(call("GET", "/proxies").body);
  EXPECT_EQ(all.size(), 2u) << all.dump();
}

TEST_F(ApiTest, ResetEnablesAndRemovesToxics) {
  create("p", false);
  call("POST", "/proxies/p/toxics", json{{"type", "latency"}});
  const auto reset = call("POST", "/reset");
  EXPECT_EQ(reset.status, 204) << reset.body;
  const json p = json::parse(call("GET", "/proxies/p").body);
  EXPECT_EQ(p["enabled"], true);
  EXPECT_EQ(p["toxics"], json::array());
}

TEST_F(ApiTest, UnknownRoutesMethodsAndBrowsers) {
  expect_error(call("GET", "/nothing"), 404, "not found");
  expect_error(call("PUT", "/proxies"), 405, "method not allowed");
  expect_error(http(api.port(), "GET", "/proxies", "", "User-Agent: Mozilla/5.0\r\n"), 403,
               "User agent not allowed");
  // Garbage instead of HTTP: a 400 and the server keeps serving.
  Fd fd = connect_local(api.port());
  send_all(fd.get(), "\x01\x02 garbage\r\n\r\n");
  const ReadResult r = read_until(fd.get(), SIZE_MAX);
  EXPECT_NE(r.data.find("400"), std::string::npos) << r.data;
  EXPECT_EQ(call("GET", "/version").status, 200);
}

TEST_F(ApiTest, MetricsCountBytesConnectionsAndToxics) {
  const json p = create("m");
  call("POST", "/proxies/m/toxics", json{{"type", "latency"}, {"name", "lat"}});
  Fd c = connect_local(port_of(p));
  send_all(c.get(), "hello!");
  EXPECT_EQ(read_until(c.get(), 6).data, "hello!");
  auto m = call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers.find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find("faultline_proxy_bytes_total{proxy=\"m\",stream=\"upstream\"} 6"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("faultline_proxy_connections_total{proxy=\"m\"} 1"), std::string::npos);
  EXPECT_NE(m.body.find("faultline_proxy_toxic_applied_total{proxy=\"m\",toxic=\"lat\"} 1"),
            std::string::npos);
}

// --- the proxy's behaviour, through the API, with an echo server ---

TEST_F(ApiTest, DataFlowsBothWaysAndToxicsReachLiveLinks) {
  const json p = create("live");
  Fd c = connect_local(port_of(p));
  send_all(c.get(), "one");
  EXPECT_EQ(read_until(c.get(), 3).data, "one");
  // Timeout 0 on a live link holds the echo; removing it delivers it.
  call("POST", "/proxies/live/toxics", json{{"type", "timeout"}, {"name", "hold"}});
  send_all(c.get(), "two");
  // What the toxic holds cannot arrive while it is there: check the proxy holds it.
  ASSERT_TRUE(eventually([&] { return server.counters("live").bytes_downstream >= 6; }));
  pollfd pf{c.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&pf, 1, 0), 0);
  EXPECT_EQ(call("DELETE", "/proxies/live/toxics/hold").status, 204);
  EXPECT_EQ(read_until(c.get(), 3).data, "two");
}

TEST_F(ApiTest, DownRefusesConnections) {
  const json p = create("down");
  auto handle = server.take_down("down");
  int err = 0;
  EXPECT_FALSE(connect_local(port_of(p), &err));
  EXPECT_EQ(err, ECONNREFUSED);
  handle.heal();
  EXPECT_TRUE(connect_local(port_of(p)));
}

TEST_F(ApiTest, RejectFirstResetsExactlyN) {
  const json p = create("rf");
  auto handle = server.add_toxic(
      "rf", ToxicSpec::from_json({{"type", "reject_first"}, {"attributes", {{"count", 3}}}}));
  int resets = 0;
  for (int i = 0; i < 6; ++i) {
    Fd c = connect_local(port_of(p));
    ASSERT_TRUE(c);
    // The RST can meet the send (EPIPE/ECONNRESET there, then EOF) or the read.
    const bool sent = send_all(c.get(), "hi");
    const ReadResult r = read_until(c.get(), 2);
    if (r.data == "hi") continue;
    EXPECT_TRUE(!sent || r.error == ECONNRESET) << "neither echoed nor reset";
    ++resets;
  }
  EXPECT_EQ(resets, 3);
  EXPECT_EQ(server.counters("rf").connections_rejected, 3u);
}

TEST_F(ApiTest, DecisionsAreJournaledAndHandlesHeal) {
  const json p = create("j");
  {
    auto handle = server.add_toxic(
        "j", ToxicSpec::from_json({{"type", "latency"}, {"name", "slow"}, {"toxicity", 0.5}}));
    for (int i = 0; i < 4; ++i) {
      Fd c = connect_local(port_of(p));
      send_all(c.get(), "x");
      read_until(c.get(), 1);
    }
    EXPECT_EQ(json::parse(call("GET", "/proxies/j/toxics").body).size(), 1u);
  }
  EXPECT_EQ(json::parse(call("GET", "/proxies/j/toxics").body), json::array());
  int decisions = 0, injects = 0, heals = 0;
  for (const Event& e : journal.events()) {
    if (e.kind == event_kind::kDecision) {
      ++decisions;
      EXPECT_EQ(e.fields["toxic"], "slow");
      EXPECT_EQ(e.fields["toxicity"], 0.5);
    }
    injects += e.kind == event_kind::kFaultInject;
    heals += e.kind == event_kind::kFaultHeal;
  }
  EXPECT_EQ(decisions, 4);
  EXPECT_EQ(injects, 1);
  EXPECT_EQ(heals, 1);
}

TEST(ProxyServerSeed, SameSeedSameDecisions) {
  auto run = [](std::uint64_t seed) {
    RealClock clock;
    EventLoop loop;
    Journal journal(clock);
    EchoServer echo;
    ProxyServer server(loop, clock, Rng(seed), &journal);
    auto proxy =
        server.add_proxy({"d", "127.0.0.1:0", "127.0.0.1:" + std::to_string(echo.port()), true});
    auto t = server.add_toxic("d", ToxicSpec::from_json({{"type", "slicer"}, {"toxicity", 0.5}}));
    std::string applied;
    for (int i = 0; i < 16; ++i) {
      Fd c = connect_local(proxy.port());
      send_all(c.get(), "x");
      read_until(c.get(), 1);
    }
    for (const Event& e : journal.events()) {
      if (e.kind == event_kind::kDecision) applied += e.fields["applied"].get<bool>() ? '1' : '0';
    }
    return applied;
  };
  const std::string a = run(42);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, run(42));
  EXPECT_NE(a.find('1'), std::string::npos);
  EXPECT_NE(a.find('0'), std::string::npos);
}

TEST(HttpApiAddress, InUseIsA409) {
  RealClock clock;
  EventLoop loop;
  ProxyServer server(loop, clock, Rng(1));
  HttpApi first(server, "127.0.0.1:0");
  try {
    HttpApi second(server, first.address());
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 409);
  }
}

}  // namespace
}  // namespace faultline::proxy
