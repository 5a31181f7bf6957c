// Small real clients for the backends' tests and the REQ-INFRA-01 suite: one redis command through
// hiredis and one SQL statement through libpq, each on its own connection, so a test checks a
// service the way an application would reach it.
//
// Thread safety: the functions are thread-safe.
#pragma once

#include <string>

namespace faultline::backends::testing {

struct ClientReply {
  bool ok = false;   // connected and the server answered without an error
  std::string text;  // the reply (first column of the first row), or the error
};

// `command` is split on spaces (no quoting); a 10 s timeout bounds every step.
ClientReply redis_command(const std::string& host, int port, const std::string& command);
// `sql` runs as one simple query; a 10 s connect timeout.
ClientReply pg_exec(const std::string& conninfo, const std::string& sql);

}  // namespace faultline::backends::testing
