#include "harness/core/find_program.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "harness/testing/process_testing.h"

namespace faultline {
namespace {

// PATH set for one test, put back after it.
class PathOverride {
 public:
  explicit PathOverride(const std::string& value) {
    if (const char* old = std::getenv("PATH")) old_ = old;
    ::setenv("PATH", value.c_str(), 1);
  }
  ~PathOverride() { ::setenv("PATH", old_.c_str(), 1); }

 private:
  std::string old_;
};

TEST(FindProgram, SearchesPathInOrderAndOnlyExecutables) {
  testing::TempDir first, second;
  std::ofstream(first.path() / "tool") << "not executable\n";
  std::ofstream(second.path() / "tool") << "#!/bin/sh\n";
  ::chmod((second.path() / "tool").c_str(), 0755);
  PathOverride path(":" + first.path().string() + ":" + second.path().string());
  EXPECT_EQ(find_program("tool"), second.path() / "tool");
  EXPECT_EQ(find_program("no-such-tool"), std::nullopt);
  EXPECT_EQ(find_program(""), std::nullopt);
}

TEST(FindProgram, ANameWithASlashIsTakenAsItIs) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "tool") << "#!/bin/sh\n";
  EXPECT_EQ(find_program((dir.path() / "tool").string()), std::nullopt) << "not executable";
  ::chmod((dir.path() / "tool").c_str(), 0755);
  PathOverride path("/nonexistent");
  EXPECT_EQ(find_program((dir.path() / "tool").string()), dir.path() / "tool");
}

}  // namespace
}  // namespace faultline
