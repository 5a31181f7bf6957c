// Requirement tags and seeds for GoogleTest tests.
//
// A requirement test says which REQ-INFRA ids it covers with FAULTLINE_COVERS("UT-INFRA-02.2");
// the ids land in GoogleTest's XML as <property name="covers" value="UT-INFRA-02.2"/>, which the
// traceability report reads. A seeded test takes its randomness from `test_rng()`, a child of the
// run seed named after the test, and the run seed plus a one-line reproduce command are recorded
// as the `seed` and `reproduce` properties. Property tests go through `check_property()`, which
// runs RapidCheck with the run seed and records RapidCheck's own reproduce string on failure.
//
// Thread safety: call these from the test's own thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "harness/core/rng.h"

namespace faultline::testing {

// Records the ids this test covers (accumulates over several calls within one test).
void covers(std::initializer_list<std::string_view> ids);

// The seed of this test program's run: --seed / FAULTLINE_SEED, else drawn at start-up.
std::uint64_t run_seed();
// Records `seed` and `reproduce` for the current test and returns its generator: a child of the
// run seed named "<Suite>.<Test>", so one test's draws do not depend on which others run.
Rng test_rng();
// Records an explicit seed (for a test that takes one from elsewhere).
void record_seed(std::uint64_t seed);

// The command that re-runs the current test with the current run seed.
std::string reproduce_command();

// Called by the test main; sets the run seed and hands it to RapidCheck (RC_PARAMS) unless
// RC_PARAMS already names one.
void init_run_seed(int* argc, char** argv);

}  // namespace faultline::testing

#define FAULTLINE_COVERS(...) ::faultline::testing::covers({__VA_ARGS__})
