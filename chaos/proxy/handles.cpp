// ToxicHandle and ProxyHandle: the RAII face of ProxyServer (see proxy_server.h).
#include <utility>

#include "chaos/proxy/proxy_server.h"
#include "harness/core/log.h"

namespace faultline::proxy {

ToxicHandle::ToxicHandle(ToxicHandle&& other) noexcept
    : server_(std::exchange(other.server_, nullptr)),
      proxy_(std::move(other.proxy_)),
      name_(std::move(other.name_)),
      heal_id_(std::exchange(other.heal_id_, std::nullopt)) {}

ToxicHandle& ToxicHandle::operator=(ToxicHandle&& other) noexcept {
  if (this != &other) {
    heal();
    server_ = std::exchange(other.server_, nullptr);
    proxy_ = std::move(other.proxy_);
    name_ = std::move(other.name_);
    heal_id_ = std::exchange(other.heal_id_, std::nullopt);
  }
  return *this;
}

ToxicHandle::~ToxicHandle() {
  heal();
}

void ToxicHandle::heal() {
  ProxyServer* server = std::exchange(server_, nullptr);
  if (server == nullptr) return;
  try {
    server->heal_toxic(proxy_, name_, heal_id_);
  } catch (const std::exception& e) {
    log::error("proxy", "healing a toxic failed",
               {{"proxy", proxy_}, {"toxic", name_}, {"error", e.what()}});
  }
}

ProxyHandle::ProxyHandle(ProxyHandle&& other) noexcept
    : server_(std::exchange(other.server_, nullptr)),
      name_(std::move(other.name_)),
      listen_(std::move(other.listen_)) {}

ProxyHandle& ProxyHandle::operator=(ProxyHandle&& other) noexcept {
  if (this != &other) {
    remove();
    server_ = std::exchange(other.server_, nullptr);
    name_ = std::move(other.name_);
    listen_ = std::move(other.listen_);
  }
  return *this;
}

ProxyHandle::~ProxyHandle() {
  remove();
}

std::uint16_t ProxyHandle::port() const {
  return static_cast<std::uint16_t>(std::stoul(split_host_port(listen_, "listen").second));
}

void ProxyHandle::remove() {
  ProxyServer* server = std::exchange(server_, nullptr);
  if (server == nullptr) return;
  try {
    server->delete_proxy(name_);
  } catch (const ApiError& e) {
    if (e.status() != 404) {  // 404: deleted already, nothing to heal
      log::error("proxy", "removing a proxy failed", {{"proxy", name_}, {"error", e.what()}});
    }
  } catch (const std::exception& e) {
    log::error("proxy", "removing a proxy failed", {{"proxy", name_}, {"error", e.what()}});
  }
}

}  // namespace faultline::proxy
