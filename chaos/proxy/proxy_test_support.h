// Helpers for the proxy's tests: the loopback socket helpers of harness/testing/net_testing.h
// and an echo server. Every wait has a generous bound and returns as soon as its
// condition holds; nothing here sleeps to synchronise.
//
// Thread safety: an EchoServer runs its own thread; the free functions are independent.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness/testing/net_testing.h"

namespace faultline::proxy::testing {
using faultline::testing::connect_local;
using faultline::testing::eventually;
using faultline::testing::Fd;
using faultline::testing::http;
using faultline::testing::HttpResult;
using faultline::testing::kBound;
using faultline::testing::listen_local;
using faultline::testing::read_until;
using faultline::testing::ReadResult;
using faultline::testing::send_all;

// Accepts connections on 127.0.0.1:<port> and echoes what each sends, until destroyed.
class EchoServer {
 public:
  EchoServer() {
    listen_ = listen_local(&port_);
    thread_ = std::thread([this] { run(); });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void run() {
    std::vector<Fd> conns;
    while (!stop_) {
      std::vector<pollfd> fds{{listen_.get(), POLLIN, 0}};
      for (auto& c : conns) fds.push_back({c.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        conns.emplace_back(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        ++accepted_;
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[65536];
        const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          conns[i - 1].reset();
          continue;
        }
        send_all(fds[i].fd, std::string(buf, static_cast<std::size_t>(n)));
      }
      std::erase_if(conns, [](const Fd& f) { return !f; });
    }
  }

  Fd listen_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

}  // namespace faultline::proxy::testing
