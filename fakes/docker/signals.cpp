#include "fakes/docker/signals.h"

#include <csignal>
#include <cstring>
#include <utility>

namespace faultline::fakes::docker {

namespace {

const std::pair<const char*, int> kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

}  // namespace

std::optional<int> parse_signal(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text.size() <= 3 && text.find_first_not_of("0123456789") == std::string::npos) {
    const int n = std::stoi(text);
    if (n >= 1 && n <= 64) return n;
    return std::nullopt;
  }
  std::string name = text;
  for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const auto& [n, number] : kSignals) {
    if (name == n) return number;
  }
  return std::nullopt;
}

bool signal_terminates(int n) {
  return n != SIGCHLD && n != SIGCONT && n != SIGSTOP && n != SIGTSTP && n != SIGTTIN &&
         n != SIGTTOU && n != SIGURG && n != SIGWINCH;
}

}  // namespace faultline::fakes::docker
