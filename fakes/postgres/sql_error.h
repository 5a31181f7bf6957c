// SqlError: an error the fake reports to a client as an ErrorResponse, with its SQLSTATE.
//
// Thrown by the parser, the executor and the session; the session turns it into the 'E' message.
// `fatal` errors end the session after they are sent. Immutable value type; thread-compatible.
#pragma once

#include <stdexcept>
#include <string>

namespace faultline::pg {

class SqlError : public std::runtime_error {
 public:
  SqlError(std::string sqlstate, std::string message, int position = 0)
      : std::runtime_error(message),
        sqlstate(std::move(sqlstate)),
        message(std::move(message)),
        position(position) {}

  std::string sqlstate;
  std::string message;
  int position = 0;  // 1-based character position in the query; 0: none; -1: none, ever
  std::string detail;
  std::string hint;
  std::string context;
  bool fatal = false;
};

// The fake does not implement `what` (ERROR 0A000 feature_not_supported, naming the construct).
inline SqlError not_supported(const std::string& what, int position = 0) {
  return SqlError("0A000", what + " is not supported by the faultline fake", position);
}

}  // namespace faultline::pg
