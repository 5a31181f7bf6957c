// libFuzzer target: the fake daemon's HTTP request handling — Beast's request parser configured
// as the server configures it, then the router and the daemon behind it, on a ManualClock.
//
// The input is a byte stream as a client would send it (pipelined requests allowed). Every
// request parsed is routed; deferred and streamed replies are driven to completion and the clock
// is advanced so timers fire. Checked: no crash, no sanitizer report, every reply has a status in
// 100..599, and every error reply carries a JSON {"message"} body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "fakes/docker/daemon.h"
#include "fakes/docker/router.h"
#include "harness/core/clock.h"

namespace {

namespace http = boost::beast::http;
using namespace faultline::fakes::docker;

void check_reply(const HttpReply& reply) {
  if (reply.status < 100 || reply.status > 599) std::abort();
  if (reply.status >= 400) {
    const auto j = nlohmann::json::parse(reply.body, nullptr, false);
    if (!j.is_object() || !j.contains("message") || !j["message"].is_string()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  faultline::ManualClock clock;
  FakeDockerOptions options;
  options.memory_bytes = 1LL << 30;
  options.cpus = 2;
  auto daemon = std::make_shared<DockerDaemon>(clock, options);
  const Router router(daemon);
  std::string input(reinterpret_cast<const char*>(data), size);
  std::size_t offset = 0;
  for (int n = 0; n < 64 && offset < input.size(); ++n) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(4 << 20);
    parser.eager(true);
    boost::beast::error_code ec;
    const std::size_t used =
        parser.put(boost::asio::buffer(input.data() + offset, input.size() - offset), ec);
    if (!ec && !parser.is_done()) parser.put_eof(ec);
    if (ec || !parser.is_done()) break;  // the server answers 400 and closes; nothing routes
    offset += used == 0 ? input.size() : used;
    const auto& req = parser.get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers[name] = std::string(field.value());
    }
    request.body = req.body();
    HttpReply reply = router.handle(request);
    check_reply(reply);
    if (reply.defer) {
      try {
        reply.defer([](HttpReply done) { check_reply(done); });
      } catch (const ApiError& e) {
        check_reply(HttpReply::error(e.status(), e.what()));
      }
    }
    if (reply.stream) {
      auto cancel = reply.stream([](std::string) {}, [] {});
      clock.advance(std::chrono::seconds(1));
      cancel();
    }
    clock.advance(std::chrono::milliseconds(250));
  }
  clock.advance(std::chrono::minutes(2));  // restart backoff, probes and stop timeouts fire
  return 0;
}
