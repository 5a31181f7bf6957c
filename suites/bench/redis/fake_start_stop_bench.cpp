// Measures how long the Redis fake takes to start (bind, listen) and to stop (close the listener
// and its clients), on a running EventLoop with a RealClock. Prints median and p99 over N rounds.
// A benchmark, never a test: nothing here asserts a time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fakes/redis/server.h"
#include "fakes/redis/test_client.h"
#include "harness/core/clock.h"
#include "harness/core/event_loop.h"

int main(int argc, char** argv) {
  using namespace faultline;
  using Clock = std::chrono::steady_clock;
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  RealClock clock;
  EventLoop loop;
  std::vector<double> start_us, stop_us;
  for (int i = 0; i < rounds; ++i) {
    fakes::redis::RedisFake fake(loop, clock);
    const auto t0 = Clock::now();
    fake.start();
    const auto t1 = Clock::now();
    {
      // One client connected and served, so stop() has a connection to close.
      auto c = fakes::redis::testing::RedisTestClient::tcp("127.0.0.1", fake.port());
      if (c.cmd({"PING"}) != "+PONG") return 1;
      const auto t2 = Clock::now();
      fake.stop();
      const auto t3 = Clock::now();
      stop_us.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
    }
    start_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  const auto report = [](const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::printf("%s median_us=%.1f p99_us=%.1f max_us=%.1f rounds=%zu\n", what, v[v.size() / 2],
                v[std::min(v.size() - 1, v.size() * 99 / 100)], v.back(), v.size());
  };
  report("fake_start", start_us);
  report("fake_stop", stop_us);
  return 0;
}
