// What this build's sanitizers rule out, said once so that code and tests skip with the same
// reason.
//
// librdkafka (the Kafka fake's mock cluster and our Kafka clients) starts its threads with C11
// thrd_create. GCC 12's ThreadSanitizer intercepts pthread_create but not thrd_create, so those
// threads run without TSan's per-thread state and crash at their first allocation (SEGV in
// __tsan::user_alloc_internal on an "rdk:" thread). Under TSan, Kafka is therefore unavailable:
// backends report it so, and Kafka tests skip with this reason. Every other build runs them.
//
// Thread safety: constants and pure functions.
#pragma once

#include <optional>
#include <string>

namespace faultline {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

// Why librdkafka cannot run in this build, or nullopt when it can.
inline std::optional<std::string> librdkafka_unavailable() {
  if (!kThreadSanitizer) return std::nullopt;
  return "librdkafka starts its threads with C11 thrd_create, which this toolchain's "
         "ThreadSanitizer does not intercept, so they crash under TSan (harness/core/sanitizers.h)";
}

}  // namespace faultline
