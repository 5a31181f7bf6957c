#include "chaos/engine/thread_activity.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace faultline::chaos {

std::optional<ThreadStat> parse_thread_stat(std::string_view line) {
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
      close + 2 >= line.size() || line[close + 1] != ' ')
    return std::nullopt;
  ThreadStat stat;
  stat.name = std::string(line.substr(open + 1, close - open - 1));
  stat.state = line[close + 2];
  return stat;
}

bool other_threads_runnable() {
  const long self = static_cast<long>(::syscall(SYS_gettid));
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return false;
  bool runnable = false;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long tid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || tid == self) continue;
    std::ifstream in(std::string("/proc/self/task/") + entry->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;  // the thread has just exited
    const auto stat = parse_thread_stat(line);
    if (!stat || stat->name.rfind("rdk:", 0) == 0) continue;
    if (stat->state == 'R' || stat->state == 'D') {
      runnable = true;
      break;
    }
  }
  ::closedir(dir);
  return runnable;
}

}  // namespace faultline::chaos
