// Thread activity of this process, read from /proc/self/task: whether any thread other than the
// caller is runnable (state R: running or waiting for a CPU). OpDriver uses it to tell an
// operation that waits on simulated time (every thread asleep) from one that is merely slow (a
// thread still working, or queued behind a loaded CPU) before it moves the simulated clock.
//
// librdkafka's threads (named "rdk:...") are ignored: Kafka runs on real time by design
// (scenarios/README.md), and its threads wake on their own timers whatever the simulated clock
// does.
//
// Linux only. Thread safety: free functions, callable from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace faultline::chaos {

// The state letter of a /proc/<pid>/task/<tid>/stat line ("R", "S", "D"...) and the thread's
// name, or nullopt if the line is malformed. The name may hold spaces and parentheses: the state
// follows the last ')'.
struct ThreadStat {
  std::string name;
  char state = '?';
};
std::optional<ThreadStat> parse_thread_stat(std::string_view line);

// True if a thread of this process other than the caller is runnable now (R) or in an
// uninterruptible wait (D: disk I/O), librdkafka's excepted.
bool other_threads_runnable();

}  // namespace faultline::chaos
