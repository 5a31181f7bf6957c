#include "harness/backends/hook_fault.h"

#include "harness/core/log.h"

namespace faultline::backends {

CallbackHookFault::~CallbackHookFault() {
  try {
    heal();
  } catch (const std::exception& e) {
    log::error("backends", "healing a hook fault failed", {{"error", e.what()}});
  }
}

void CallbackHookFault::heal() {
  std::call_once(once_, [this] {
    if (undo_) undo_();
  });
}

long long hook_int(const std::string& hook, const nlohmann::json& args, const char* field,
                   std::optional<long long> fallback, long long min) {
  if (!args.is_null() && !args.is_object()) {
    throw UsageError("hook '" + hook + "': arguments must be a JSON object");
  }
  if (args.is_null() || !args.contains(field)) {
    if (!fallback) throw UsageError("hook '" + hook + "' needs \"" + field + "\"");
    return *fallback;
  }
  const auto& v = args.at(field);
  if (!v.is_number_integer() || v.get<long long>() < min) {
    throw UsageError("hook '" + hook + "': \"" + field +
                     "\" must be an integer >= " + std::to_string(min) + ", not " + v.dump());
  }
  return v.get<long long>();
}

std::string hook_string(const std::string& hook, const nlohmann::json& args, const char* field,
                        const std::string& fallback) {
  if (args.is_null() || !args.is_object() || !args.contains(field)) return fallback;
  const auto& v = args.at(field);
  if (!v.is_string()) {
    throw UsageError("hook '" + hook + "': \"" + field + "\" must be a string, not " + v.dump());
  }
  return v.get<std::string>();
}

}  // namespace faultline::backends
