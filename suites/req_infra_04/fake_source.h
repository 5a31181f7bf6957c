// A SystemSource with figures the test sets, for known loads and for failures on demand.
#pragma once

#include <functional>

#include "harness/core/error.h"
#include "harness/ops/metrics.h"

namespace faultline::ops::testing {

class FakeSource final : public SystemSource {
 public:
  SystemSample next;
  bool fail = false;
  std::function<void(SystemSample&)> before_sample;  // lets a test tie figures to the clock

  SystemSample sample() override {
    if (fail) throw Error("cannot read /proc/stat: No such file or directory");
    if (before_sample) before_sample(next);
    return next;
  }
  // Advances the CPU counters by `total` jiffies of which `busy` were busy.
  void spend(std::uint64_t total, std::uint64_t busy) {
    next.cpu_total += total;
    next.cpu_idle += total - busy;
  }
  void memory(double used_percent) {
    next.mem_total_kb = 16'000'000;
    next.mem_available_kb =
        static_cast<std::uint64_t>(16'000'000.0 * (100.0 - used_percent) / 100.0);
  }
};

}  // namespace faultline::ops::testing
