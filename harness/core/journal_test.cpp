#include "harness/core/journal.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "harness/core/error.h"
#include "harness/core/redact.h"
#include "harness/core/rng.h"
#include "harness/testing/covers.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A tiny deterministic "run": what a scenario in fake mode does, driven by a seed.
std::string run_once(std::uint64_t seed, std::chrono::system_clock::time_point wall_start) {
  ManualClock clock(wall_start);
  Journal journal(clock);
  Rng rng = Rng(seed).child("schedule");
  journal.append(event_kind::kRunStart, "run", {{"seed", seed}});
  for (int i = 0; i < 20; ++i) {
    clock.advance(std::chrono::milliseconds(rng.uniform(1, 500)));
    if (rng.bernoulli(0.3)) {
      journal.append(event_kind::kFaultInject, "redis", {{"fault", "pause"}});
    } else {
      journal.append(event_kind::kOpOk, "client-1", {{"op", "set"}, {"key", i}});
    }
  }
  return journal.digest();
}

TEST(Journal, AssignsSequenceAndSimulatedTime) {
  ManualClock clock;
  Journal journal(clock);
  EXPECT_EQ(journal.append("a", "x"), 1u);
  clock.advance(3s);
  EXPECT_EQ(journal.append("b", "y", {{"k", 1}}), 2u);
  auto events = journal.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].sim_ns, 0);
  EXPECT_EQ(events[1].sim_ns, std::chrono::nanoseconds(3s).count());
  EXPECT_EQ(events[1].fields["k"], 1);
}

TEST(Journal, SameSeedSameDigestWhateverTheWallClock) {
  const auto seed = testing::run_seed();
  testing::record_seed(seed);
  const auto d1 = run_once(seed, std::chrono::system_clock::time_point(1000s));
  const auto d2 = run_once(seed, std::chrono::system_clock::time_point(999999s));
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(d1.size(), 64u);
  EXPECT_NE(d1, run_once(seed + 1, std::chrono::system_clock::time_point(1000s)));
}

TEST(Journal, WritesJsonLinesThatReadBackToTheSameDigest) {
  const fs::path path = fs::temp_directory_path() /
                        ("faultline-journal-test-" + std::to_string(::getpid()) + ".jsonl");
  ManualClock clock;
  std::string digest;
  {
    Journal journal(clock, path);
    journal.append(event_kind::kFaultInject, "postgres", {{"fault", "crash"}});
    clock.advance(1s);
    journal.append(event_kind::kFaultHeal, "postgres", {{"fault", "crash"}});
    digest = journal.digest();
  }
  auto events = Journal::read_file(path);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, "fault.heal");
  EXPECT_EQ(Journal::digest_of(events), digest);
  // A malformed line is an input error naming the file and the line.
  std::ofstream(path, std::ios::app) << "{not json\n";
  try {
    Journal::read_file(path);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().line, 3);
    EXPECT_EQ(e.where().file, path.string());
  }
  fs::remove(path);
}

TEST(Journal, SecretsNeverReachTheJournal) {
  FAULTLINE_COVERS("ET-INFRA-08.2");
  Redactor::process().add("journal-secret-xyzzy");
  ManualClock clock;
  Journal journal(clock);
  journal.append("op.fail", "db",
                 {{"error", "auth failed for password journal-secret-xyzzy"},
                  {"nested", {{"url", "postgres://u:journal-secret-xyzzy@h/db"}}}});
  const std::string dumped = journal.events()[0].to_json().dump();
  EXPECT_EQ(dumped.find("journal-secret-xyzzy"), std::string::npos) << dumped;
  EXPECT_NE(dumped.find("[redacted]"), std::string::npos);
}

TEST(Journal, ConcurrentAppendsAreTotallyOrdered) {
  ManualClock clock;
  Journal journal(clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&journal, t] {
      for (int i = 0; i < 250; ++i) journal.append("op", "t" + std::to_string(t));
    });
  }
  for (auto& th : threads) th.join();
  auto events = journal.events();
  ASSERT_EQ(events.size(), 1000u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq, i + 1);
}

}  // namespace
}  // namespace faultline
