// Linked into the Kafka test programs: under ThreadSanitizer, where librdkafka cannot run (see
// harness/core/sanitizers.h), every test of the program is skipped with that reason instead of
// crashing the program.
#include <gtest/gtest.h>

#include "harness/core/sanitizers.h"

namespace {

class LibrdkafkaGuard : public ::testing::Environment {
 public:
  void SetUp() override {
    if (auto why = faultline::librdkafka_unavailable()) GTEST_SKIP() << *why;
  }
};

const auto* const kGuard = ::testing::AddGlobalTestEnvironment(new LibrdkafkaGuard);

}  // namespace
