// libFuzzer target: the Toxiproxy-compatible API's request routing.
//
// The input's first line is "METHOD TARGET", the rest is the body. It is routed exactly as the
// HTTP server routes a request, against one ProxyServer kept across inputs (with a base proxy
// whose upstream nothing listens on). Checked: no crash or sanitizer report, every reply is a
// status the API documents with a JSON body, and after each input the server is put back — every
// proxy but the base deleted, /reset — so inputs do not pile up listeners.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "chaos/proxy/api_routes.h"
#include "chaos/proxy/proxy_server.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"
#include "harness/core/log.h"
#include "harness/core/rng.h"

namespace {

using faultline::proxy::route_api_request;

struct World {
  World() {
    faultline::log::configure({faultline::log::Format::human, faultline::log::Level::off});
    route_api_request(server, "POST", "/proxies",
                      R"({"name":"base","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"})");
  }
  faultline::RealClock clock;
  faultline::EventLoop loop;
  faultline::proxy::ProxyServer server{loop, clock, faultline::Rng(7)};
};

void check_reply(const faultline::proxy::ApiReply& r) {
  static const std::set<int> documented = {200, 201, 204, 400, 403, 404, 405, 409, 413, 500};
  if (documented.count(r.status) == 0) std::abort();
  if (r.content_type == "application/json" && !r.body.empty() &&
      nlohmann::json::parse(r.body, nullptr, false).is_discarded()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* world = new World();  // lives for the process, as libFuzzer expects
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto eol = input.find('\n');
  const std::string first = input.substr(0, eol);
  const std::string body = eol == std::string::npos ? "" : input.substr(eol + 1);
  const auto space = first.find(' ');
  const std::string method = first.substr(0, space);
  const std::string target = space == std::string::npos ? "/" : first.substr(space + 1);
  check_reply(route_api_request(world->server, method, target, body));
  // Put the server back: only the base proxy, no toxics, enabled.
  const auto index = nlohmann::json::parse(
      route_api_request(world->server, "GET", "/proxies", "").body, nullptr, false);
  if (index.is_object()) {
    for (const auto& [name, proxy] : index.items()) {
      if (name != "base") route_api_request(world->server, "DELETE", "/proxies/" + name, "");
    }
  }
  route_api_request(world->server, "POST", "/reset", "");
  return 0;
}
