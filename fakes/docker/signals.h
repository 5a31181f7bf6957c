// Signal names and numbers as dockerd accepts them in POST /containers/{id}/kill?signal=
// ("SIGKILL", "KILL", "9"), and which ones end a fake container's main process.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>

namespace faultline::fakes::docker {

std::optional<int> parse_signal(const std::string& text);
// False for signals whose default action is not to terminate (SIGCHLD, SIGCONT, SIGSTOP,
// SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH): the fake's process keeps running.
bool signal_terminates(int number);

}  // namespace faultline::fakes::docker
