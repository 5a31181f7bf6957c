#include "harness/testing/process_testing.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/core/error.h"
#include "harness/core/run_dir.h"
#include "harness/core/unique_fd.h"

namespace faultline::testing {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "faultline-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw Error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {
RunDirectory* g_test_run = nullptr;
}  // namespace

Subreaper::Subreaper() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

Subreaper::~Subreaper() {
  // The test program's own run directory watchdog is our child too; it must outlive the test.
  pid_t keep = 0;
  if (g_test_run) {
    if (const auto w = g_test_run->watchdog()) keep = w->pid;
  }
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(it->path().filename().c_str()));
    const auto status = read_process_status(pid);
    if (pid <= 0 || pid == keep || !status || status->ppid != ::getpid()) continue;
    ::kill(pid, SIGKILL);  // our child, unreaped: the pid cannot be anyone else's
    ::waitpid(pid, nullptr, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

void RunDirectoryEnvironment::SetUp() {
  run_.emplace(RunDirectory::create(label_));
  g_test_run = &*run_;
}

void RunDirectoryEnvironment::TearDown() {
  g_test_run = nullptr;
  run_.reset();
}

RunDirectory& test_run_directory() {
  if (!g_test_run) throw Error("no RunDirectoryEnvironment is set up in this test program");
  return *g_test_run;
}

bool Subreaper::reap(pid_t pid) {
  return wait_until([pid] {
    const pid_t done = ::waitpid(pid, nullptr, WNOHANG);
    return done == pid || (done < 0 && errno == ECHILD);
  });
}

Holder fork_holder(const std::function<std::string()>& setup, std::chrono::milliseconds bound) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw Error("pipe2 failed");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("fork failed");
  if (pid == 0) {
    read_end.reset();
    std::string line;
    try {
      line = setup();
    } catch (const std::exception& e) {
      line = std::string("error ") + e.what();
    }
    line += "\n";
    [[maybe_unused]] const ssize_t n = ::write(write_end.get(), line.data(), line.size());
    for (;;) ::pause();  // SIGKILLed by the test
  }
  write_end.reset();
  Holder out{pid, {}};
  pollfd p{read_end.get(), POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + bound;
  char buf[512];
  while (out.report.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n <= 0) break;
    out.report.append(buf, static_cast<std::size_t>(n));
  }
  out.report = out.report.substr(0, out.report.find('\n'));
  return out;
}

void kill_holder(const Holder& holder) {
  ::kill(holder.pid, SIGKILL);
  int status = 0;
  ::waitpid(holder.pid, &status, 0);
}

}  // namespace faultline::testing
