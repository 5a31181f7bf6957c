// The real clients of the proxy's `local` tests (redis-cli, psql, node): a bounded command runner
// under the test's RunDirectory, and the small file and PATH helpers around it. The servers are
// RealRedis and RealPostgres (fakes/redis/testing, fakes/postgres/testing).
//
// Thread safety: run_command's output files are numbered by a process-wide counter; call it from
// one test thread at a time.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "chaos/proxy/proxy_test_support.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"

namespace faultline::proxy::testing {

inline bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a short command to completion (bounded), capturing its standard output.
struct CommandResult {
  ExitStatus status;
  std::string out;
  std::string err;
};
inline CommandResult run_command(RunDirectory& run, const std::filesystem::path& dir,
                                 std::vector<std::string> argv,
                                 std::chrono::milliseconds bound = std::chrono::seconds(60)) {
  static int n = 0;
  const auto out = dir / ("cmd" + std::to_string(++n) + ".out");
  const auto err = dir / ("cmd" + std::to_string(n) + ".err");
  Supervisor sup(run);
  Child child = sup.spawn({std::move(argv), {}, dir, out, err});
  if (!wait_for_exit(child.pid(), bound)) child.terminate();
  CommandResult r;
  r.status = child.wait();
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace faultline::proxy::testing
