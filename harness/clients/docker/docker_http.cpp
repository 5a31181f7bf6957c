#include "harness/clients/docker/docker_http.h"

#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace faultline::clients::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

// A connected socket of either kind behind one interface.
class Connection {
 public:
  Connection(asio::io_context& ioc, const DockerHost& host) : unix_(ioc), tcp_(ioc) {
    error_code ec;
    if (!host.unix_path.empty()) {
      unix_.connect(asio::local::stream_protocol::endpoint(host.unix_path), ec);
      is_unix_ = true;
    } else {
      asio::ip::tcp::resolver resolver(ioc);
      const auto results = resolver.resolve(host.host, std::to_string(host.port), ec);
      if (!ec) asio::connect(tcp_, results, ec);
    }
    if (ec)
      throw DockerUnavailable("cannot connect to the Docker daemon at " + host.str() + ": " +
                              ec.message());
  }

  template <class F>
  void with(F&& f) {
    if (is_unix_) {
      f(unix_);
    } else {
      f(tcp_);
    }
  }

  void close() {
    error_code ignored;
    unix_.close(ignored);
    tcp_.close(ignored);
  }

 private:
  asio::local::stream_protocol::socket unix_;
  asio::ip::tcp::socket tcp_;
  bool is_unix_ = false;
};

http::request<http::string_body> make_request(const DockerHost& host, const HttpExchange& r) {
  http::request<http::string_body> req;
  req.method_string(r.method);
  req.target(r.target);
  req.version(11);
  req.set(http::field::host, host.unix_path.empty() ? host.host : "docker");
  req.set(http::field::user_agent, "faultline-docker-client");
  if (!r.body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = r.body;
  req.keep_alive(false);
  req.prepare_payload();
  return req;
}

// Runs the io_context until `done` or the deadline; on the deadline closes the connection.
bool run_until(asio::io_context& ioc, Connection& conn, const bool& done,
               std::chrono::steady_clock::time_point deadline) {
  while (!done) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      conn.close();
      ioc.restart();
      ioc.run_for(std::chrono::seconds(1));  // let the aborted handlers finish
      return false;
    }
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(deadline - now);
  }
  return true;
}

}  // namespace

std::string url_escape(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

DockerClient::Reply http_exchange(const DockerHost& host, const HttpExchange& request,
                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::io_context ioc;
  Connection conn(ioc, host);
  auto req = make_request(host, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  if (request.method == "HEAD") parser.skip(true);
  error_code result;
  bool done = false;
  conn.with([&](auto& socket) {
    http::async_write(socket, req, [&](error_code ec, std::size_t) {
      if (ec) {
        result = ec;
        done = true;
        return;
      }
      http::async_read(socket, buffer, parser, [&](error_code ec2, std::size_t) {
        result = ec2;
        done = true;
      });
    });
  });
  if (!run_until(ioc, conn, done, deadline)) {
    throw DockerUnavailable(request.method + " " + request.target + ": no reply from " +
                            host.str() + " within " + std::to_string(timeout.count()) + " ms");
  }
  if (result) {
    throw DockerUnavailable(request.method + " " + request.target + " to " + host.str() + ": " +
                            result.message());
  }
  DockerClient::Reply reply;
  const auto& res = parser.get();
  reply.status = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
  reply.body = res.body();
  return reply;
}

StreamResult http_stream(const DockerHost& host, const HttpExchange& request,
                         const std::function<bool(const std::string&)>& on_data,
                         std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  asio::io_context ioc;
  Connection conn(ioc, host);
  auto req = make_request(host, request);
  beast::flat_buffer buffer;
  StreamResult out;
  error_code failure;
  bool done = false;
  // Declared before the parser, which keeps a reference to it.
  auto on_chunk = [&](std::uint64_t, beast::string_view data, error_code&) -> std::size_t {
    if (!out.stopped && out.status / 100 == 2 && !on_data(std::string(data))) out.stopped = true;
    if (out.status / 100 != 2) out.error_body += std::string(data);
    return data.size();
  };
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  parser.on_chunk_body(on_chunk);
  conn.with([&](auto& socket) {
    http::async_write(socket, req, [&](error_code ec, std::size_t) {
      if (ec) {
        failure = ec;
        done = true;
        return;
      }
      http::async_read_header(socket, buffer, parser, [&](error_code ec2, std::size_t) {
        if (ec2) {
          failure = ec2;
          done = true;
          return;
        }
        out.status = static_cast<int>(parser.get().result_int());
        auto step = std::make_shared<std::function<void()>>();
        *step = [&, step] {
          if (out.stopped || parser.is_done()) {
            done = true;
            *step = nullptr;  // runs on a copy, so this breaks the self-reference safely
            return;
          }
          http::async_read_some(socket, buffer, parser, [&, step](error_code ec3, std::size_t) {
            if (ec3) {
              if (ec3 != http::error::end_of_stream) failure = ec3;
              done = true;
              *step = nullptr;
              return;
            }
            auto next = *step;
            next();
          });
        };
        auto first = *step;
        first();
      });
    });
  });
  if (!run_until(ioc, conn, done, deadline)) {
    out.timed_out = true;
    return out;
  }
  if (!parser.chunked() && out.status / 100 != 2) out.error_body = parser.get().body();
  if (failure && !out.stopped && out.status == 0) {
    throw DockerUnavailable(request.method + " " + request.target + " to " + host.str() + ": " +
                            failure.message());
  }
  return out;
}

}  // namespace faultline::clients::detail
