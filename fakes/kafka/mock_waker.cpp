#include "fakes/kafka/mock_waker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

namespace faultline::fakes::kafka {

MockWaker::MockWaker(const std::string& bootstrap) {
  std::stringstream list(bootstrap);
  std::string address;
  while (std::getline(list, address, ',')) {
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) continue;
    try {
      ports_.push_back(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    } catch (const std::exception&) {
    }
  }
  thread_ = std::thread([this] { run(); });
}

MockWaker::~MockWaker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void MockWaker::begin() {
  {
    std::lock_guard lock(mu_);
    ++pending_;
  }
  cv_.notify_all();
}

void MockWaker::end() {
  std::lock_guard lock(mu_);
  --pending_;
}

void MockWaker::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait(lock, [&] { return stopping_ || pending_ > 0; });
    // Give the pipe wake-up its chance first; poke only a call that is still waiting.
    while (!stopping_ && pending_ > 0) {
      if (cv_.wait_for(lock, std::chrono::milliseconds(5), [&] { return stopping_; })) break;
      if (pending_ == 0) break;
      lock.unlock();
      poke();
      lock.lock();
    }
  }
}

void MockWaker::poke() const {
  for (const std::uint16_t port : ports_) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Non-blocking: on loopback the handshake completes in the kernel; a down broker refuses.
    (void)::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    ::close(fd);
  }
}

}  // namespace faultline::fakes::kafka
