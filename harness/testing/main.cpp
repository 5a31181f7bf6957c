// The main of every faultline test program: GoogleTest/GoogleMock plus the run seed.
#include <cstdio>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/core/error.h"
#include "harness/testing/covers.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleMock(&argc, argv);
  try {
    faultline::testing::init_run_seed(&argc, argv);
  } catch (const faultline::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  ::testing::Test::RecordProperty("seed", std::to_string(faultline::testing::run_seed()));
  return RUN_ALL_TESTS();
}
