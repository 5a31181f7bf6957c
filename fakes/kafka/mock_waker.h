// MockWaker: works around a lost wake-up in librdkafka 2.0.2's mock cluster.
//
// A control call on the mock (create a topic, move a leader, take a broker down...) queues an op
// for the mock's thread and waits for it. The thread is woken through a pipe, but once clients
// are connected that wake-up is sometimes skipped (the queue's "wake-up sent" flag is still set
// from an earlier op), and the op then waits for the thread's next timer — up to a second. Any
// socket event wakes the thread too, so while a call is pending this helper connects to the
// brokers' listeners (and closes at once) every few milliseconds; the mock accepts, reads EOF and
// drops the connection, and serves the op on the way.
//
// Thread safety: begin()/end() from any thread; calls may overlap.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace faultline::fakes::kafka {

class MockWaker {
 public:
  // `bootstrap` is the mock's "host:port,host:port,..." (loopback).
  explicit MockWaker(const std::string& bootstrap);
  ~MockWaker();
  MockWaker(const MockWaker&) = delete;
  MockWaker& operator=(const MockWaker&) = delete;

  void begin();
  void end();

  // RAII: wakes the mock while a call is in flight.
  class Pending {
   public:
    explicit Pending(MockWaker& w) : w_(w) { w_.begin(); }
    ~Pending() { w_.end(); }
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;

   private:
    MockWaker& w_;
  };

 private:
  void run();
  void poke() const;

  std::vector<std::uint16_t> ports_;
  std::mutex mu_;
  std::condition_variable cv_;
  int pending_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace faultline::fakes::kafka
