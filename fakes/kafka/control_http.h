// KafkaControlEndpoint: the loopback HTTP server through which people and tests fault a
// FakeKafkaCluster. The routes are those of control_api.h (e.g. `curl -X POST
// http://127.0.0.1:PORT/brokers/2/down`). Bodies are limited to 64 KiB; the endpoint listens on a
// loopback address only (port 0 = ephemeral).
//
// Thread safety: start/stop/port from any thread but the loop's; requests are served on the
// EventLoop, one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace faultline {
class EventLoop;
}

namespace faultline::fakes::kafka {

class FakeKafkaCluster;

class KafkaControlEndpoint {
 public:
  // start() throws InputError if `host` is not a loopback address.
  KafkaControlEndpoint(EventLoop& loop, FakeKafkaCluster& kafka, std::string host = "127.0.0.1",
                       std::uint16_t port = 0);
  ~KafkaControlEndpoint();  // stop()
  KafkaControlEndpoint(const KafkaControlEndpoint&) = delete;
  KafkaControlEndpoint& operator=(const KafkaControlEndpoint&) = delete;

  void start();  // throws Error if it cannot listen
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::fakes::kafka
