// RedisControlEndpoint: the loopback HTTP API through which people and tests fault a RedisFake.
//
//   GET    /health               200 {"status":"ok","redis":"127.0.0.1:PORT"}
//   GET    /faults               200 the active faults, e.g. {"pause":{},"latency":{"get":25.0}}
//   POST   /faults/{name}        inject; body: JSON parameters (may be empty), see faults.h:
//                                  command_error {"command":"get","error":"ERR boom"}
//                                  latency       {"command":"get","ms":25}  (command default "*")
//                                  close_after   {"commands":3}
//                                200 {"injected":name,"faults":{...}}
//   DELETE /faults/{name}        heal; body {"command":"get"} heals one command of
//                                command_error / latency. 200 {"healed":name,"faults":{...}}
//   POST   /reset                heal every fault. 200 {"faults":{}}
// Errors: 400 {"error": "..."} for bad JSON, unknown fault names (with a did-you-mean) or bad
// parameters; 404 for an unknown path; 405 for a wrong method. Bodies are limited to 64 KiB.
// The endpoint listens on a loopback address only (port 0 = ephemeral).
//
// Thread safety: start/stop/port from any thread but the loop's; requests are served on the
// fake's EventLoop, between two Redis commands.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace faultline {
class EventLoop;
}

namespace faultline::fakes::redis {

class RedisFake;

class RedisControlEndpoint {
 public:
  // Throws InputError if `host` is not a loopback address.
  RedisControlEndpoint(EventLoop& loop, RedisFake& fake, std::string host = "127.0.0.1",
                       std::uint16_t port = 0);
  ~RedisControlEndpoint();  // stop()
  RedisControlEndpoint(const RedisControlEndpoint&) = delete;
  RedisControlEndpoint& operator=(const RedisControlEndpoint&) = delete;

  void start();  // throws Error if it cannot listen
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faultline::fakes::redis
