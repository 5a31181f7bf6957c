#include "fakes/docker/router.h"

#include <charconv>

#include "fakes/docker/daemon.h"

namespace faultline::fakes::docker {

using nlohmann::json;

namespace {

constexpr const char* kServer = "Docker/27.5.1 (linux)";
// Names and values from a request can hold any bytes; JSON output replaces invalid UTF-8.
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

bool truthy(const std::map<std::string, std::string>& q, const std::string& key) {
  const auto it = q.find(key);
  return it != q.end() && (it->second == "1" || it->second == "true" || it->second == "True");
}

std::optional<int> int_param(const std::map<std::string, std::string>& q, const std::string& key) {
  const auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return std::nullopt;
  int v = 0;
  const auto* end = it->second.data() + it->second.size();
  const auto [p, ec] = std::from_chars(it->second.data(), end, v);
  if (ec != std::errc() || p != end) {
    throw ApiError(400, "invalid value for " + key + ": " + it->second);
  }
  return v;
}

json json_body(const HttpRequest& r, bool required) {
  if (r.body.empty()) {
    if (required) throw ApiError(400, "config cannot be empty in order to create a container");
    return json::object();
  }
  const auto ct = r.headers.find("content-type");
  if (ct != r.headers.end() && !ct->second.empty() &&
      ct->second.rfind("application/json", 0) != 0) {
    throw ApiError(
        400, "unsupported Content-Type header (" + ct->second + "): must be 'application/json'");
  }
  try {
    return json::parse(r.body);
  } catch (const json::parse_error& e) {
    throw ApiError(400, std::string("invalid JSON: ") + e.what());
  }
}

// since/until: unix seconds, optionally with a fraction ("1700000000.5"), or RFC 3339 is not
// accepted by the fake (dockerd takes durations too; the CLI sends seconds).
std::optional<std::int64_t> time_param(const std::map<std::string, std::string>& q,
                                       const std::string& key) {
  const auto it = q.find(key);
  if (it == q.end() || it->second.empty()) return std::nullopt;
  const std::string& s = it->second;
  const auto dot = s.find('.');
  std::int64_t secs = 0, frac = 0;
  const std::string whole = s.substr(0, dot);
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), secs);
  if (ec != std::errc() || p != whole.data() + whole.size() || secs < 0 || secs > 1LL << 33) {
    throw ApiError(400, "failed to parse value " + s + " as a timestamp");
  }
  if (dot != std::string::npos) {
    std::string digits = s.substr(dot + 1, 9);
    digits.resize(9, '0');
    auto [p2, ec2] = std::from_chars(digits.data(), digits.data() + 9, frac);
    if (ec2 != std::errc() || p2 != digits.data() + 9) {
      throw ApiError(400, "failed to parse value " + s + " as a timestamp");
    }
  }
  return secs * 1000000000LL + frac;
}

std::string frame(int stream, const std::string& text) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  const auto n = static_cast<std::uint32_t>(text.size());
  out[4] = static_cast<char>(n >> 24);
  out[5] = static_cast<char>(n >> 16);
  out[6] = static_cast<char>(n >> 8);
  out[7] = static_cast<char>(n);
  return out + text;
}

}  // namespace

HttpReply HttpReply::error(int status, const std::string& message) {
  return json(status, nlohmann::json{{"message", message}}.dump(-1, ' ', false, kReplace));
}

Router::Router(std::shared_ptr<DockerDaemon> daemon) : daemon_(std::move(daemon)) {}

HttpReply Router::handle(HttpRequest request) const {
  HttpReply reply;
  try {
    const auto q = request.target.find('?');
    const std::string raw_path = request.target.substr(0, q);
    request.query = parse_query(q == std::string::npos ? "" : request.target.substr(q + 1));
    const VersionedPath vp = split_version(url_decode(raw_path));
    request.path = vp.path;
    request.api_version = negotiate(vp.version, daemon_->min_version(), daemon_->max_version());
    reply = dispatch(request);
  } catch (const ApiError& e) {
    reply = HttpReply::error(e.status(), e.what());
  } catch (const std::exception& e) {
    reply = HttpReply::error(500, e.what());
  }
  reply.headers.emplace_back("Api-Version", daemon_->max_version().str());
  reply.headers.emplace_back("Docker-Experimental", "false");
  reply.headers.emplace_back("Ostype", "linux");
  reply.headers.emplace_back("Server", kServer);
  return reply;
}

HttpReply Router::dispatch(HttpRequest& r) const {
  const std::string& p = r.path;
  const std::string& m = r.method;
  if (p == "/_ping") {
    if (m != "GET" && m != "HEAD") throw ApiError(404, "page not found");
    HttpReply reply;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = m == "HEAD" ? "" : "OK";
    reply.headers = {{"Builder-Version", "1"},
                     {"Swarm", "inactive"},
                     {"Cache-Control", "no-cache, no-store, must-revalidate"},
                     {"Pragma", "no-cache"}};
    return reply;
  }
  if (p == "/version" && m == "GET")
    return HttpReply::json(200, daemon_->version_json().dump(-1, ' ', false, kReplace));
  if (p == "/info" && m == "GET")
    return HttpReply::json(200, daemon_->info_json().dump(-1, ' ', false, kReplace));
  if (p == "/events" && m == "GET") return events(r);
  if (p.rfind("/containers/", 0) == 0) return containers(r, p.substr(12));
  if (p == "/networks" && m == "GET") {
    return HttpReply::json(
        200,
        daemon_->list_networks(parse_filters(r.query["filters"])).dump(-1, ' ', false, kReplace));
  }
  if (p.rfind("/networks/", 0) == 0) return networks(r, p.substr(10));
  if (p.rfind("/images/", 0) == 0) return images(r, p.substr(8));
  // Volumes exist only with the process backing (folders for real processes).
  if (p.rfind("/volumes/", 0) == 0 && daemon_->has_volumes()) {
    const std::string rest = p.substr(9);
    if (rest == "create" && m == "POST") {
      const json body = json_body(r, true);
      return HttpReply::json(
          201,
          daemon_->create_volume(body.value("Name", std::string())).dump(-1, ' ', false, kReplace));
    }
    if (!rest.empty() && rest.find('/') == std::string::npos && m == "GET") {
      return HttpReply::json(200, daemon_->inspect_volume(rest).dump(-1, ' ', false, kReplace));
    }
    if (!rest.empty() && rest.find('/') == std::string::npos && m == "DELETE") {
      daemon_->remove_volume(rest);
      return HttpReply::empty(204);
    }
  }
  throw ApiError(404, "page not found");
}

HttpReply Router::containers(HttpRequest& r, const std::string& rest) const {
  const std::string& m = r.method;
  if (rest == "json" && m == "GET") {
    const bool all = truthy(r.query, "all");
    return HttpReply::json(
        200, daemon_->list(all, parse_filters(r.query["filters"])).dump(-1, ' ', false, kReplace));
  }
  if (rest == "create" && m == "POST") {
    return HttpReply::json(
        201, daemon_->create(r.query["name"], json_body(r, true)).dump(-1, ' ', false, kReplace));
  }
  const auto slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (id.empty()) throw ApiError(404, "page not found");
  auto daemon = daemon_;
  if (action.empty() && m == "DELETE") {
    daemon->remove(id, truthy(r.query, "force"));
    return HttpReply::empty(204);
  }
  if (action == "json" && m == "GET")
    return HttpReply::json(200, daemon->inspect(id).dump(-1, ' ', false, kReplace));
  if (action == "logs" && m == "GET") {
    const auto lines = daemon->logs(id, truthy(r.query, "stdout"), truthy(r.query, "stderr"));
    HttpReply reply;
    const bool new_type =
        ApiVersion::parse(r.api_version).value_or(ApiVersion{}) >= ApiVersion{1, 42};
    reply.content_type = new_type ? "application/vnd.docker.multiplexed-stream"
                                  : "application/vnd.docker.raw-stream";
    for (const auto& l : lines) reply.body += frame(l.stream, l.text);
    return reply;
  }
  if (m != "POST") throw ApiError(404, "page not found");
  if (action == "start") {
    return HttpReply::empty(daemon->start(id) ? 204 : 304);
  }
  if (action == "stop" || action == "restart") {
    const auto t = int_param(r.query, "t");
    const bool restart = action == "restart";
    daemon->inspect(id);  // 404 before deferring
    HttpReply reply;
    reply.defer = [daemon, id, t, restart](std::function<void(HttpReply)> done) {
      auto answered = std::make_shared<bool>(false);
      auto ok = [done, answered] {
        if (*answered) return;
        *answered = true;
        done(HttpReply::empty(204));
      };
      if (restart) {
        daemon->restart(id, t, ok);
      } else if (!daemon->stop(id, t, ok)) {
        done(HttpReply::empty(304));
      }
    };
    return reply;
  }
  if (action == "kill") {
    const auto it = r.query.find("signal");
    daemon->kill(id, it == r.query.end() ? "SIGKILL" : it->second);
    return HttpReply::empty(204);
  }
  if (action == "pause") {
    daemon->pause(id);
    return HttpReply::empty(204);
  }
  if (action == "unpause") {
    daemon->unpause(id);
    return HttpReply::empty(204);
  }
  if (action == "wait") {
    const std::string condition = r.query["condition"];
    daemon->inspect(id);
    if (!condition.empty() && condition != "not-running" && condition != "next-exit" &&
        condition != "removed") {
      throw ApiError(400, "invalid condition: \"" + condition + "\"");
    }
    // As dockerd: the status and headers go out at once (clients wait for them before they
    // start the container), the body when the condition holds.
    HttpReply reply;
    reply.stream = [daemon, id, condition](HttpReply::Write write, HttpReply::End end) {
      daemon->wait(id, condition, [write, end](json result) {
        write(result.dump(-1, ' ', false, kReplace) + "\n");
        end();
      });
      return std::function<void()>([] {});
    };
    return reply;
  }
  throw ApiError(404, "page not found");
}

HttpReply Router::networks(HttpRequest& r, const std::string& rest) const {
  const std::string& m = r.method;
  if (rest == "create" && m == "POST") {
    return HttpReply::json(
        201, daemon_->create_network(json_body(r, false)).dump(-1, ' ', false, kReplace));
  }
  const auto slash = rest.find('/');
  const std::string id = rest.substr(0, slash);
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (id.empty()) throw ApiError(404, "page not found");
  if (action.empty() && m == "GET") {
    return HttpReply::json(200, daemon_->inspect_network(id).dump(-1, ' ', false, kReplace));
  }
  if (action.empty() && m == "DELETE") {
    daemon_->remove_network(id);
    return HttpReply::empty(204);
  }
  if ((action == "connect" || action == "disconnect") && m == "POST") {
    const json body = json_body(r, false);
    if (!body.is_object() || !body.contains("Container") || !body["Container"].is_string()) {
      throw ApiError(400, "no container specified");
    }
    const std::string container = body["Container"].get<std::string>();
    if (action == "connect") {
      daemon_->connect(id, container, body.value("EndpointConfig", json::object()));
    } else {
      const bool force =
          body.contains("Force") && body["Force"].is_boolean() && body["Force"].get<bool>();
      daemon_->disconnect(id, container, force);
    }
    return HttpReply::json(200, "");
  }
  throw ApiError(404, "page not found");
}

HttpReply Router::images(HttpRequest& r, const std::string& rest) const {
  const std::string& m = r.method;
  if (rest == "json" && m == "GET")
    return HttpReply::json(200, daemon_->list_images().dump(-1, ' ', false, kReplace));
  if (rest == "create" && m == "POST") {
    const std::string image = r.query["fromImage"];
    if (image.empty()) throw ApiError(400, "fromImage is required (the fake cannot import)");
    std::string tag = r.query["tag"];
    daemon_->pull(image, tag);
    if (tag.empty()) tag = "latest";
    std::string body;
    for (const json& line :
         {json{{"status", "Pulling from " + image}, {"id", tag}},
          json{{"status", "Digest: sha256:" + std::string(64, '0')}},
          json{{"status", "Status: Downloaded newer image for " + image + ":" + tag}}}) {
      body += line.dump(-1, ' ', false, kReplace) + "\r\n";
    }
    return HttpReply::json(200, body);
  }
  if (m == "GET" && rest.size() > 5 && rest.substr(rest.size() - 5) == "/json") {
    return HttpReply::json(
        200,
        daemon_->inspect_image(rest.substr(0, rest.size() - 5)).dump(-1, ' ', false, kReplace));
  }
  throw ApiError(404, "page not found");
}

HttpReply Router::events(HttpRequest& r) const {
  const EventFilters filters = parse_filters(r.query["filters"]);
  const auto since = time_param(r.query, "since");
  const auto until = time_param(r.query, "until");
  const std::int64_t now = daemon_->wall_now_ns();
  auto daemon = daemon_;
  HttpReply reply;
  reply.stream = [daemon, filters, since, until, now](HttpReply::Write write, HttpReply::End end) {
    const std::int64_t history_until = until ? std::min(*until, now) : now;
    if (since || until) {
      for (const auto& e : daemon->event_history(since.value_or(0), history_until, filters)) {
        write(e.dump(-1, ' ', false, kReplace) + "\n");
      }
    }
    if (until && *until <= now) {
      end();
      return std::function<void()>([] {});
    }
    const auto id = daemon->subscribe(
        filters, [write](const json& e) { write(e.dump(-1, ' ', false, kReplace) + "\n"); });
    TimerId timer = 0;
    if (until) {
      const auto wait = std::chrono::nanoseconds(*until - now);
      timer = daemon->clock().call_after(wait, [end] { end(); });
    }
    std::weak_ptr<DockerDaemon> weak = daemon;
    return std::function<void()>([weak, id, timer] {
      if (auto d = weak.lock()) {
        d->unsubscribe(id);
        if (timer) d->clock().cancel(timer);
      }
    });
  };
  return reply;
}

}  // namespace faultline::fakes::docker
