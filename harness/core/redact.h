// Redactor: keeps secrets out of everything faultline writes.
//
// Secrets come only from the environment. The value of every environment variable whose name
// contains PASSWORD, SECRET, TOKEN or KEY (any case) is a secret, as is anything registered at run
// time with `add()` (a password read from a stack file's ${VAR}, say). Logs, journals and reports
// pass their text through `redact()`, which replaces each occurrence of a secret with
// "[redacted]". Values shorter than kMinSecretLength are not treated as secrets: replacing every
// "1" or "on" in a log would destroy it and protect nothing.
//
// Thread safety: `process()` is built once, on first use, from the environment; `add()` and
// `redact()` may be called from any thread concurrently.
#pragma once

#include <cstddef>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace faultline {

class Redactor {
 public:
  static constexpr std::size_t kMinSecretLength = 3;
  static constexpr std::string_view kMask = "[redacted]";

  Redactor() = default;
  Redactor(const Redactor& other);
  Redactor& operator=(const Redactor&) = delete;

  // True if a variable of this name holds a secret.
  static bool is_secret_name(std::string_view name);
  // Secrets from `envp` (NAME=value strings, null-terminated array), e.g. `environ`.
  static Redactor from_environment(char** envp);
  // The process-wide redactor, built from `environ` on first use.
  static Redactor& process();

  void add(std::string_view secret);
  std::size_t size() const;
  std::string redact(std::string_view text) const;
  // Redacts every string (keys and values) inside a JSON value, in place.
  void redact_json(nlohmann::json& value) const;

 private:
  mutable std::shared_mutex mu_;
  std::vector<std::string> secrets_;  // longest first, so a secret containing another goes whole
};

// Shorthand for Redactor::process().redact(text).
std::string redact(std::string_view text);

}  // namespace faultline
