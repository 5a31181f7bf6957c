// The HTTP webhook notifier (Alertmanager's webhook_config, in small): one POST of the alert as
// JSON per notification, with a bounded timeout. Beast stays in this translation unit.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "harness/core/error.h"
#include "harness/core/redact.h"
#include "harness/ops/alert_manager.h"

namespace faultline::ops {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(std::string host, int port, std::string path)
      : host_(std::move(host)), port_(port), path_(std::move(path)) {}
  std::string name() const override {
    return "webhook:http://" + host_ + ":" + std::to_string(port_) + path_;
  }

  void notify(const Alert& a) override {
    nlohmann::json body = {{"status", a.resolved ? "resolved" : "firing"},
                           {"alerts",
                            {{{"status", a.resolved ? "resolved" : "firing"},
                              {"labels", a.labels},
                              {"annotations", {{"summary", a.summary}}},
                              {"value", a.value}}}}};
    Redactor::process().redact_json(body);
    try {
      boost::asio::io_context io;
      beast::tcp_stream stream(io);
      stream.expires_after(std::chrono::seconds(10));
      tcp::resolver resolver(io);
      stream.connect(resolver.resolve(host_, std::to_string(port_)));
      http::request<http::string_body> req{http::verb::post, path_, 11};
      req.set(http::field::host, host_);
      req.set(http::field::content_type, "application/json");
      req.body() = body.dump();
      req.prepare_payload();
      http::write(stream, req);
      beast::flat_buffer buffer;
      http::response<http::string_body> res;
      http::read(stream, buffer, res);
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      if (res.result_int() >= 300) {
        throw Error(name() + " answered " + std::to_string(res.result_int()));
      }
    } catch (const boost::system::system_error& e) {
      throw Error(name() + ": " + e.code().message());
    }
  }

 private:
  std::string host_;
  int port_;
  std::string path_;
};

}  // namespace

std::unique_ptr<Notifier> webhook_notifier(std::string host, int port, std::string path) {
  return std::make_unique<WebhookNotifier>(std::move(host), port, std::move(path));
}

}  // namespace faultline::ops
