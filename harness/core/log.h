// Logging: faultline's structured log, written through spdlog.
//
// Every line has a timestamp, a level, the component that wrote it, a message, optional JSON
// fields and the correlation id of the work it belongs to (set with a CorrelationScope, which is
// per thread). The human format is for terminals; `--log-format json` writes one JSON object per
// line for log shippers. Every line passes through the process Redactor before it is written, so
// no secret from the environment reaches a log.
//
// Thread safety: all functions may be called from any thread; `configure` is meant for start-up
// and replaces the sink atomically with respect to writers.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace faultline::log {

enum class Level { trace, debug, info, warn, error, off };
enum class Format { human, json };

// Parses "trace|debug|info|warn|error|off" and "human|json"; throws UsageError otherwise.
Level parse_level(std::string_view text);
Format parse_format(std::string_view text);

struct Config {
  Format format = Format::human;
  Level level = Level::info;
  std::ostream* stream = nullptr;  // nullptr: standard error
};

void configure(const Config& config);
bool enabled(Level level);

void write(Level level, std::string_view component, std::string_view message,
           const nlohmann::json& fields = nlohmann::json::object());

inline void debug(std::string_view c, std::string_view m, const nlohmann::json& f = {}) {
  write(Level::debug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, const nlohmann::json& f = {}) {
  write(Level::info, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, const nlohmann::json& f = {}) {
  write(Level::warn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, const nlohmann::json& f = {}) {
  write(Level::error, c, m, f);
}

// Sets this thread's correlation id for its lifetime, restoring the previous one after.
class CorrelationScope {
 public:
  explicit CorrelationScope(std::string id);
  ~CorrelationScope();
  CorrelationScope(const CorrelationScope&) = delete;
  CorrelationScope& operator=(const CorrelationScope&) = delete;

 private:
  std::string previous_;
};

const std::string& correlation_id();

}  // namespace faultline::log
