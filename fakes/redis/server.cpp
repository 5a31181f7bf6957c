#include "fakes/redis/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <system_error>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "fakes/redis/connection.h"
#include "harness/core/error.h"
#include "harness/core/event_loop.h"
#include "harness/core/journal.h"
#include "harness/core/log.h"
#include "harness/core/text.h"

namespace faultline::fakes::redis {

namespace asio = boost::asio;
using generic_stream = asio::generic::stream_protocol;

namespace {

std::string format_address(const generic_stream::endpoint& ep) {
  const auto* sa = reinterpret_cast<const sockaddr*>(ep.data());
  char text[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(in6->sin6_port));
  }
  if (sa->sa_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(sa);
    const std::size_t max = ep.size() > offsetof(sockaddr_un, sun_path)
                                ? ep.size() - offsetof(sockaddr_un, sun_path)
                                : 0;
    return std::string(un->sun_path, ::strnlen(un->sun_path, max)) + ":0";
  }
  return "?:0";
}

std::string lower(std::string_view s) {
  return to_lower(s);
}

}  // namespace

struct RedisFake::Impl {
  Impl(EventLoop& l, Clock& c, RedisFakeOptions o)
      : loop(l),
        options(std::move(o)),
        core(l, c, Rng(options.seed).child("redis/eviction"), options.databases) {}

  EventLoop& loop;
  RedisFakeOptions options;
  ServerCore core;
  std::optional<asio::basic_socket_acceptor<generic_stream>> acceptor;
  std::uint16_t bound_port = 0;
  bool running = false;
  std::uint64_t accept_generation = 0;
  // Handlers queued on the loop may run after the fake is gone; they check this token, which is
  // replaced on every listen() and dropped, on the loop thread, by unlisten().
  std::shared_ptr<int> alive;

  void journal(const char* kind, std::string_view fault, nlohmann::json fields = {}) {
    if (fields.is_null()) fields = nlohmann::json::object();
    fields["fault"] = std::string(fault);
    log::info("redis-fake",
              kind == std::string(event_kind::kFaultInject) ? "fault injected" : "fault healed",
              fields);
    if (options.journal) options.journal->append(kind, "redis:" + options.name, fields);
  }

  generic_stream::endpoint listen_endpoint() const {
    if (!options.unix_path.empty()) {
      return generic_stream::endpoint(asio::local::stream_protocol::endpoint(options.unix_path));
    }
    const auto address = asio::ip::make_address(options.host);
    const std::uint16_t port = bound_port ? bound_port : options.port;
    return generic_stream::endpoint(asio::ip::tcp::endpoint(address, port));
  }

  void listen() {
    const auto ep = listen_endpoint();
    if (!options.unix_path.empty()) {
      std::error_code ignored;
      std::filesystem::remove(options.unix_path, ignored);  // a stale socket from an earlier run
    }
    acceptor.emplace(loop.context());
    boost::system::error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (!ec && options.unix_path.empty()) {
      acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      acceptor.reset();
      throw Error("redis fake: cannot listen on " +
                  (options.unix_path.empty() ? options.host + ":" + std::to_string(options.port)
                                             : options.unix_path.string()) +
                  ": " + ec.message());
    }
    if (options.unix_path.empty()) {
      const auto local = acceptor->local_endpoint();
      bound_port = ntohs(reinterpret_cast<const sockaddr_in*>(local.data())->sin_port);
      core.state.tcp_port = bound_port;
    }
    alive = std::make_shared<int>(0);
    accept(++accept_generation);
  }

  void unlisten() {
    ++accept_generation;
    alive.reset();
    if (acceptor) {
      boost::system::error_code ignored;
      acceptor->close(ignored);
      acceptor.reset();
    }
    if (!options.unix_path.empty()) {
      std::error_code ignored;
      std::filesystem::remove(options.unix_path, ignored);
    }
  }

  void accept(std::uint64_t generation) {
    std::weak_ptr<int> token = alive;
    acceptor->async_accept([this, generation, token](const boost::system::error_code& ec,
                                                     generic_stream::socket socket) {
      if (token.expired() || generation != accept_generation) return;  // listener closed
      if (!ec) on_accepted(std::move(socket));
      if (acceptor) accept(generation);
    });
  }

  void on_accepted(generic_stream::socket socket) {
    boost::system::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    const auto local = socket.local_endpoint(ec);
    if (options.unix_path.empty()) {
      const int one = 1;
      ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    const std::uint64_t id = core.next_client_id++;
    auto conn =
        std::make_shared<Connection>(std::move(socket), core, id, ec ? "?:0" : format_address(peer),
                                     ec ? "?:0" : format_address(local));
    core.connections.emplace(id, conn);
    core.state.clients.push_back(&conn->info());
    ++core.state.total_connections;
    conn->start();
  }

  void close_clients() {
    auto all = core.connections;  // close() edits the map
    for (auto& [id, conn] : all) conn->close();
  }

  void set_paused(bool on) {
    core.state.faults.paused = on;
    if (on) return;
    auto all = core.connections;
    for (auto& [id, conn] : all) conn->resume();
  }

  void set_flag(bool& flag, bool on, const char* name) {
    if (flag == on) return;
    flag = on;
    journal(on ? event_kind::kFaultInject : event_kind::kFaultHeal, name);
  }

  void set_refuse(bool on) {
    if (core.state.faults.refuse_connections == on) return;
    core.state.faults.refuse_connections = on;
    if (!running) return;
    if (on) {
      unlisten();
    } else {
      listen();
    }
  }
};

RedisFake::RedisFake(EventLoop& loop, Clock& clock, RedisFakeOptions options) {
  const auto policy = parse_policy(options.maxmemory_policy);
  if (!policy) {
    throw InputError({}, "redis fake: unknown maxmemory policy '" + options.maxmemory_policy + "'");
  }
  if (options.unix_path.empty()) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec || !address.is_loopback()) {
      throw InputError({}, "redis fake: host '" + options.host + "' is not a loopback address");
    }
  }
  impl_ = std::make_unique<Impl>(loop, clock, std::move(options));
  impl_->core.keyspace.set_maxmemory(impl_->options.maxmemory);
  impl_->core.keyspace.set_policy(*policy);
  impl_->core.state.started = clock.now();
}

RedisFake::~RedisFake() {
  try {
    stop();
  } catch (const std::exception& e) {
    log::error("redis-fake", "stop failed", {{"error", e.what()}});
  }
}

void RedisFake::start() {
  impl_->loop.post_and_wait([this] {
    if (impl_->running) return;
    if (!impl_->core.state.faults.refuse_connections) impl_->listen();
    impl_->running = true;
  });
}

void RedisFake::stop() {
  if (impl_->loop.stopped()) return;
  impl_->loop.post_and_wait([this] {
    if (!impl_->running) return;
    impl_->running = false;
    impl_->unlisten();
    impl_->close_clients();
  });
}

bool RedisFake::running() const {
  return impl_->loop.post_and_wait([this] { return impl_->running; });
}

std::uint16_t RedisFake::port() const {
  return impl_->loop.post_and_wait([this] { return impl_->bound_port; });
}

std::string RedisFake::endpoint() const {
  if (!impl_->options.unix_path.empty()) return "unix:" + impl_->options.unix_path.string();
  return impl_->options.host + ":" + std::to_string(port());
}

std::size_t RedisFake::client_count() const {
  return impl_->loop.post_and_wait([this] { return impl_->core.connections.size(); });
}

std::size_t RedisFake::blocked_clients() const {
  return impl_->loop.post_and_wait([this] {
    std::size_t n = 0;
    for (const auto& [id, conn] : impl_->core.connections) n += conn->blocked() ? 1 : 0;
    return n;
  });
}

void RedisFake::refuse_connections(bool on) {
  impl_->loop.post_and_wait([&] {
    const bool was = impl_->core.state.faults.refuse_connections;
    impl_->set_refuse(on);
    if (was != on)
      impl_->journal(on ? event_kind::kFaultInject : event_kind::kFaultHeal, "refuse_connections");
  });
}

void RedisFake::close_all_clients() {
  impl_->loop.post_and_wait([&] {
    impl_->journal(event_kind::kFaultInject, "close_clients",
                   {{"clients", impl_->core.connections.size()}});
    impl_->close_clients();
  });
}

void RedisFake::pause(bool on) {
  impl_->loop.post_and_wait([&] {
    if (impl_->core.state.faults.paused == on) return;
    impl_->set_paused(on);
    impl_->journal(on ? event_kind::kFaultInject : event_kind::kFaultHeal, "pause");
  });
}

void RedisFake::oom(bool on) {
  impl_->loop.post_and_wait([&] { impl_->set_flag(impl_->core.state.faults.oom, on, "oom"); });
}

void RedisFake::loading(bool on) {
  impl_->loop.post_and_wait(
      [&] { impl_->set_flag(impl_->core.state.faults.loading, on, "loading"); });
}

void RedisFake::readonly(bool on) {
  impl_->loop.post_and_wait(
      [&] { impl_->set_flag(impl_->core.state.faults.readonly, on, "readonly"); });
}

void RedisFake::command_error(std::string_view command, std::optional<std::string> error) {
  const std::string cmd = lower(command);
  impl_->loop.post_and_wait([&] {
    auto& errors = impl_->core.state.faults.command_errors;
    if (error) {
      errors[cmd] = *error;
      impl_->journal(event_kind::kFaultInject, "command_error",
                     {{"command", cmd}, {"error", *error}});
    } else if (errors.erase(cmd)) {
      impl_->journal(event_kind::kFaultHeal, "command_error", {{"command", cmd}});
    }
  });
}

void RedisFake::latency(std::string_view command, std::optional<Duration> delay) {
  const std::string cmd = lower(command);
  impl_->loop.post_and_wait([&] {
    auto& latency = impl_->core.state.faults.latency;
    if (delay) {
      latency[cmd] = *delay;
      impl_->journal(
          event_kind::kFaultInject, "latency",
          {{"command", cmd}, {"ms", std::chrono::duration<double, std::milli>(*delay).count()}});
    } else if (latency.erase(cmd)) {
      impl_->journal(event_kind::kFaultHeal, "latency", {{"command", cmd}});
    }
  });
}

void RedisFake::close_after(std::optional<std::uint64_t> commands) {
  impl_->loop.post_and_wait([&] {
    auto& faults = impl_->core.state.faults;
    const bool had = faults.close_after.has_value();
    faults.close_after = commands;
    ++faults.close_after_generation;
    if (commands) {
      impl_->journal(event_kind::kFaultInject, "close_after", {{"commands", *commands}});
    } else if (had) {
      impl_->journal(event_kind::kFaultHeal, "close_after");
    }
  });
}

void RedisFake::heal_all() {
  refuse_connections(false);
  pause(false);
  oom(false);
  loading(false);
  readonly(false);
  close_after(std::nullopt);
  heal("command_error");
  heal("latency");
}

RedisFaultState RedisFake::faults() const {
  return impl_->loop.post_and_wait([this] { return impl_->core.state.faults; });
}

void RedisFake::with_keyspace(const std::function<void(Keyspace&)>& fn) {
  impl_->loop.post_and_wait([&] { fn(impl_->core.keyspace); });
}

namespace {

std::string string_param(const nlohmann::json& params, const char* key, std::string_view fault) {
  if (!params.contains(key) || !params[key].is_string()) {
    throw InputError({}, "fault '" + std::string(fault) + "' needs a string \"" + key + "\"");
  }
  return params[key].get<std::string>();
}

void check_name(std::string_view name) {
  const auto& names = fault_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    throw InputError({}, "unknown fault '" + std::string(name) + "'" + did_you_mean(name, names));
  }
}

}  // namespace

void RedisFake::inject(std::string_view name, const nlohmann::json& params) {
  check_name(name);
  if (!params.is_object()) throw InputError({}, "fault parameters must be a JSON object");
  if (name == "refuse_connections") return refuse_connections(true);
  if (name == "close_clients") return close_all_clients();
  if (name == "pause") return pause(true);
  if (name == "oom") return oom(true);
  if (name == "loading") return loading(true);
  if (name == "readonly") return readonly(true);
  if (name == "command_error") {
    const std::string command = string_param(params, "command", name);
    std::string error = params.contains("error") && params["error"].is_string()
                            ? params["error"].get<std::string>()
                            : "ERR injected fault";
    if (error.empty() || error.find_first_of("\r\n") != std::string::npos) {
      throw InputError({}, "fault 'command_error': \"error\" must be one non-empty line");
    }
    return command_error(command, error);
  }
  if (name == "latency") {
    const std::string command =
        params.contains("command") ? string_param(params, "command", name) : "*";
    if (!params.contains("ms") || !params["ms"].is_number() || params["ms"].get<double>() < 0 ||
        params["ms"].get<double>() > 3.6e6) {
      throw InputError({}, "fault 'latency' needs \"ms\": a number from 0 to 3600000");
    }
    const auto delay = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, std::milli>(params["ms"].get<double>()));
    return latency(command, delay);
  }
  if (name == "close_after") {
    if (!params.contains("commands") || !params["commands"].is_number_unsigned()) {
      throw InputError({}, "fault 'close_after' needs \"commands\": a non-negative integer");
    }
    return close_after(params["commands"].get<std::uint64_t>());
  }
}

void RedisFake::heal(std::string_view name, const nlohmann::json& params) {
  check_name(name);
  if (name == "refuse_connections") return refuse_connections(false);
  if (name == "close_clients") return;  // one-shot, nothing to heal
  if (name == "pause") return pause(false);
  if (name == "oom") return oom(false);
  if (name == "loading") return loading(false);
  if (name == "readonly") return readonly(false);
  if (name == "close_after") return close_after(std::nullopt);
  const bool one = params.is_object() && params.contains("command");
  const std::string only = one ? lower(string_param(params, "command", name)) : "";
  const RedisFaultState state = faults();
  if (name == "command_error") {
    for (const auto& [cmd, err] : state.command_errors) {
      if (!one || cmd == only) command_error(cmd, std::nullopt);
    }
  } else if (name == "latency") {
    for (const auto& [cmd, d] : state.latency) {
      if (!one || cmd == only) latency(cmd, std::nullopt);
    }
  }
}

}  // namespace faultline::fakes::redis
