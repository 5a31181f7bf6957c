#include "harness/core/log.h"

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "harness/core/error.h"
#include "harness/core/redact.h"

namespace faultline::log {
namespace {

thread_local std::string t_correlation;
// The component and fields of the line being written, handed to the formatter (same thread,
// synchronous logger) because spdlog's log_msg carries only a message.
thread_local const nlohmann::json* t_fields = nullptr;
thread_local std::string_view t_component;

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::trace:
      return spdlog::level::trace;
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
    case Level::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(secs),
                     static_cast<int>(ms % 1000));
}

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(Format format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string message(msg.payload.data(), msg.payload.size());
    std::string level(spdlog::level::to_string_view(msg.level).data(),
                      spdlog::level::to_string_view(msg.level).size());
    if (level == "warning") level = "warn";
    std::string line;
    if (format_ == Format::json) {
      nlohmann::json j = {{"ts", iso_time(msg.time)},
                          {"level", level},
                          {"component", std::string(t_component)},
                          {"message", message}};
      if (t_fields && t_fields->is_object() && !t_fields->empty()) j["fields"] = *t_fields;
      if (!t_correlation.empty()) j["correlation_id"] = t_correlation;
      Redactor::process().redact_json(j);
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = fmt::format("{} {:<5} [{}] {}", iso_time(msg.time), level, t_component, message);
      if (t_fields && t_fields->is_object()) {
        for (const auto& [k, v] : t_fields->items()) {
          line +=
              " " + k + "=" +
              (v.is_string() ? v.get<std::string>()
                             : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        }
      }
      if (!t_correlation.empty()) line += " cid=" + t_correlation;
      line = Redactor::process().redact(line);
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_);
  }

 private:
  Format format_;
};

std::mutex g_mu;
std::shared_ptr<spdlog::logger> g_logger;
std::atomic<int> g_level{static_cast<int>(Level::info)};

std::shared_ptr<spdlog::logger> make_logger(const Config& c) {
  spdlog::sink_ptr sink;
  if (c.stream) {
    sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*c.stream, /*force_flush=*/true);
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>("faultline", sink);
  logger->set_formatter(std::make_unique<LineFormatter>(c.format));
  logger->set_level(to_spd(c.level));
  logger->flush_on(spdlog::level::warn);
  return logger;
}

std::shared_ptr<spdlog::logger> current() {
  std::lock_guard lock(g_mu);
  if (!g_logger) g_logger = make_logger(Config{});
  return g_logger;
}

}  // namespace

Level parse_level(std::string_view t) {
  if (t == "trace") return Level::trace;
  if (t == "debug") return Level::debug;
  if (t == "info") return Level::info;
  if (t == "warn" || t == "warning") return Level::warn;
  if (t == "error") return Level::error;
  if (t == "off") return Level::off;
  throw UsageError("unknown log level '" + std::string(t) +
                   "' (expected trace, debug, info, warn, error or off)");
}

Format parse_format(std::string_view t) {
  if (t == "human") return Format::human;
  if (t == "json") return Format::json;
  throw UsageError("unknown log format '" + std::string(t) + "' (expected human or json)");
}

void configure(const Config& config) {
  auto logger = make_logger(config);
  std::lock_guard lock(g_mu);
  if (g_logger) g_logger->flush();
  g_logger = std::move(logger);
  g_level = static_cast<int>(config.level);
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load();
}

void write(Level level, std::string_view component, std::string_view message,
           const nlohmann::json& fields) {
  if (!enabled(level) || level == Level::off) return;
  auto logger = current();
  t_fields = &fields;
  t_component = component;
  logger->log(to_spd(level), "{}", message);
  t_fields = nullptr;
  t_component = {};
}

CorrelationScope::CorrelationScope(std::string id) : previous_(std::move(t_correlation)) {
  t_correlation = std::move(id);
}

CorrelationScope::~CorrelationScope() {
  t_correlation = std::move(previous_);
}

const std::string& correlation_id() {
  return t_correlation;
}

}  // namespace faultline::log
