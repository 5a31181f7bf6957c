// Typed errors of the harness.
//
// `Error` is the base of everything faultline throws on purpose. `InputError` is a problem with
// something a user gave us (a stack, scenario or matrix file, a command-line value, an API request)
// and carries where it was found — file and line where there is one — so the CLI can print one line
// naming it and exit 2. `UsageError` is a bad command line. Both are immutable and thread-safe.
#pragma once

#include <stdexcept>
#include <string>

namespace faultline {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where in an input a problem was found. `line` and `column` are 1-based; 0 means unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:column", "file:line", "file" or "" depending on what is known.
  std::string str() const;
};

class InputError : public Error {
 public:
  InputError(SourceLocation where, std::string problem);

  const SourceLocation& where() const { return where_; }
  const std::string& problem() const { return problem_; }

 private:
  SourceLocation where_;
  std::string problem_;
};

class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace faultline
