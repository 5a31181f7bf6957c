#include "chaos/proxy/api_routes.h"

#include <vector>

#include "chaos/proxy/proxy_server.h"

#ifndef FAULTLINE_VERSION
#define FAULTLINE_VERSION "0.0.0"
#endif

namespace faultline::proxy {
namespace {

ApiReply json_reply(int status, const nlohmann::json& body) {
  // Names echoed from a request may hold invalid UTF-8: replaced, never a throw.
  return {status, "application/json",
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

ApiReply no_content() {
  return {204, "", ""};
}

ApiReply error_reply(int status, const std::string& message) {
  return json_reply(status, {{"error", message}, {"status", status}});
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "/proxies/a%20b/toxics" -> {"proxies", "a b", "toxics"}; the query string is ignored.
std::vector<std::string> path_segments(std::string_view target) {
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  std::vector<std::string> parts;
  std::string current;
  bool any = false;
  for (std::size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (c == '/') {
      if (any) parts.push_back(current);
      current.clear();
      any = true;
      continue;
    }
    if (c == '%' && i + 2 < target.size() + 0 && hex(target[i + 1]) >= 0 &&
        hex(target[i + 2]) >= 0) {
      current += static_cast<char>(hex(target[i + 1]) * 16 + hex(target[i + 2]));
      i += 2;
      continue;
    }
    current += c;
  }
  if (any && !current.empty()) parts.push_back(current);
  return parts;
}

nlohmann::json parse_body(std::string_view body) {
  if (body.empty()) throw ApiError(400, "bad request body: EOF");
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw ApiError(400, std::string("bad request body: ") + e.what());
  }
}

ApiReply dispatch(ProxyServer& server, std::string_view method, const std::vector<std::string>& p,
                  std::string_view body) {
  const bool get = method == "GET";
  const bool post = method == "POST";
  const bool patch = method == "PATCH";
  const bool del = method == "DELETE";
  const std::size_t n = p.size();
  if (n == 1 && p[0] == "version" && get) {
    return {200, "application/json;charset=utf-8",
            nlohmann::json{{"version", api_version()}}.dump() + "\n"};
  }
  if (n == 1 && p[0] == "metrics" && get) {
    return {200, "text/plain; version=0.0.4; charset=utf-8", server.metrics_text()};
  }
  if (n == 1 && p[0] == "reset" && post) {
    server.reset();
    return no_content();
  }
  if (n == 1 && p[0] == "populate" && post) {
    try {
      return json_reply(201, {{"proxies", server.populate(parse_body(body))}});
    } catch (const ApiError& e) {
      return json_reply(e.status(),
                        {{"error", e.what()}, {"status", e.status()}, {"proxies", nullptr}});
    }
  }
  if (n >= 1 && p[0] == "proxies") {
    if (n == 1 && get) return json_reply(200, server.list_proxies());
    if (n == 1 && post) return json_reply(201, server.create_proxy(parse_body(body)));
    if (n == 2 && get) return json_reply(200, server.get_proxy(p[1]));
    if (n == 2 && (post || patch)) {
      return json_reply(200, server.update_proxy(p[1], parse_body(body)));
    }
    if (n == 2 && del) {
      server.delete_proxy(p[1]);
      return no_content();
    }
    if (n >= 3 && p[2] == "toxics") {
      if (n == 3 && get) return json_reply(200, server.list_toxics(p[1]));
      if (n == 3 && post) return json_reply(200, server.create_toxic(p[1], parse_body(body)));
      if (n == 4 && get) return json_reply(200, server.get_toxic(p[1], p[3]));
      if (n == 4 && (post || patch)) {
        return json_reply(200, server.update_toxic(p[1], p[3], parse_body(body)));
      }
      if (n == 4 && del) {
        server.delete_toxic(p[1], p[3]);
        return no_content();
      }
    }
  }
  const bool known = (n == 1 && (p[0] == "version" || p[0] == "metrics" || p[0] == "reset" ||
                                 p[0] == "populate" || p[0] == "proxies")) ||
                     (n == 2 && p[0] == "proxies") ||
                     (n >= 3 && n <= 4 && p[0] == "proxies" && p[2] == "toxics");
  if (known) return error_reply(405, "method not allowed");
  return error_reply(404, "not found");
}

}  // namespace

std::string api_version() {
  return std::string("faultline-") + FAULTLINE_VERSION;
}

ApiReply route_api_request(ProxyServer& server, std::string_view method, std::string_view target,
                           std::string_view body, std::string_view user_agent) {
  if (user_agent.substr(0, 8) == "Mozilla/") return error_reply(403, "User agent not allowed");
  try {
    return dispatch(server, method, path_segments(target), body);
  } catch (const ApiError& e) {
    return error_reply(e.status(), e.what());
  } catch (const std::exception& e) {
    return error_reply(500, e.what());
  }
}

}  // namespace faultline::proxy
