// CallbackHookFault: a HookFault whose heal runs one function, once, whoever calls it first (an
// explicit heal() or the destructor). The backends build their hooks from it.
//
// Thread safety: heal() may be called from any thread, concurrently; the function runs once.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "harness/stack/backend.h"

namespace faultline::backends {

class CallbackHookFault final : public stack::HookFault {
 public:
  // `undo` may be empty: a hook with nothing to undo (a kill) heals as a no-op.
  explicit CallbackHookFault(std::function<void()> undo) : undo_(std::move(undo)) {}
  ~CallbackHookFault() override;
  void heal() override;

 private:
  std::once_flag once_;
  std::function<void()> undo_;
};

// Argument readers for hooks: an integer field (or `fallback` when absent), a string field.
// Throw UsageError naming the hook and the field for a wrong type or a value below `min`.
long long hook_int(const std::string& hook, const nlohmann::json& args, const char* field,
                   std::optional<long long> fallback, long long min = 0);
std::string hook_string(const std::string& hook, const nlohmann::json& args, const char* field,
                        const std::string& fallback);

}  // namespace faultline::backends
