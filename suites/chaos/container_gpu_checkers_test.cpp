// The container and GPU checkers (restarts-with-backoff, jobs-moved-off) on hand-written journals:
// each passes on the journal its scenario should produce and fails, with the reason, on the
// journal of the failure it exists to catch.
#include <gtest/gtest.h>

#include "chaos/engine/checkers.h"

namespace faultline::chaos {
namespace {

constexpr std::int64_t kMs = 1'000'000;

struct Journal {
  std::vector<Event> events;
  Journal& add(std::int64_t ms, const char* kind, const std::string& subject,
               nlohmann::json fields = nlohmann::json::object()) {
    Event e;
    e.seq = events.size() + 1;
    e.sim_ns = ms * kMs;
    e.kind = kind;
    e.subject = subject;
    e.fields = std::move(fields);
    events.push_back(std::move(e));
    return *this;
  }
  // The Orchestrator's events for one failure of `s` followed by a restart after `backoff` ms.
  Journal& fail_and_restart(std::int64_t at, const std::string& s, std::int64_t backoff,
                            int attempt, std::int64_t delay = -1) {
    add(at, "service.failed", s);
    add(at, "service.restart_scheduled", s, {{"backoff_ms", backoff}});
    return add(at + (delay < 0 ? backoff : delay), "service.start", s, {{"attempt", attempt}});
  }
};

CheckResult check(const std::string& name, const std::vector<Event>& ev, nlohmann::json params,
                  const std::string& workload = "", std::int64_t within_ms = 0) {
  InvariantSpec s;
  s.check = name;
  s.workload = workload;
  s.within = Millis(within_ms);
  s.params = std::move(params);
  return find_checker_kind(name)->check(s, ev);
}

const nlohmann::json kWeb = {{"service", "web"}, {"attempts", 3}, {"unaffected", {"worker"}}};

Journal crash_loop() {
  Journal j;
  j.add(0, "service.start", "web", {{"attempt", 0}})
      .add(0, "service.start", "worker", {{"attempt", 0}});
  j.fail_and_restart(10'000, "web", 1000, 1);
  j.fail_and_restart(12'000, "web", 2000, 2);
  j.fail_and_restart(15'000, "web", 4000, 3);
  j.add(20'000, "service.failed", "web").add(20'000, "service.error", "web");
  return j;
}

TEST(RestartsWithBackoff, DoublingBackoffThenGivingUpPasses) {
  const auto r = check("restarts-with-backoff", crash_loop().events, kWeb);
  EXPECT_EQ(r.status, CheckResult::Status::pass) << r.detail;
  EXPECT_NE(r.detail.find("1000 ms, 2000 ms, 4000 ms"), std::string::npos) << r.detail;
}

TEST(RestartsWithBackoff, ABackoffThatDoesNotDoubleFails) {
  Journal j;
  j.fail_and_restart(10'000, "web", 1000, 1).fail_and_restart(12'000, "web", 1000, 2);
  j.fail_and_restart(14'000, "web", 4000, 3).add(19'000, "service.error", "web");
  const auto r = check("restarts-with-backoff", j.events, kWeb);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("not doubling"), std::string::npos) << r.detail;
}

TEST(RestartsWithBackoff, ARestartBeforeItsBackoffFails) {
  Journal j;
  j.fail_and_restart(10'000, "web", 1000, 1).fail_and_restart(12'000, "web", 2000, 2, 500);
  j.fail_and_restart(15'000, "web", 4000, 3).add(20'000, "service.error", "web");
  const auto r = check("restarts-with-backoff", j.events, kWeb);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("before its 2000 ms backoff"), std::string::npos) << r.detail;
}

TEST(RestartsWithBackoff, NeverGivingUpOrRestartingAfterItFails) {
  Journal endless;
  endless.fail_and_restart(10'000, "web", 1000, 1).fail_and_restart(12'000, "web", 2000, 2);
  endless.fail_and_restart(15'000, "web", 4000, 3);
  auto r = check("restarts-with-backoff", endless.events, kWeb);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("never given up on"), std::string::npos) << r.detail;

  Journal after = crash_loop();
  after.add(30'000, "service.start", "web", {{"attempt", 4}});
  r = check("restarts-with-backoff", after.events, kWeb);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("after it was given up on"), std::string::npos) << r.detail;

  Journal too_few;
  too_few.fail_and_restart(10'000, "web", 1000, 1).add(12'000, "service.error", "web");
  r = check("restarts-with-backoff", too_few.events, kWeb);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("restarted 1 times, expected 3"), std::string::npos) << r.detail;
}

TEST(RestartsWithBackoff, AnUnaffectedServiceThatFailedOrAFaultThatDidNothingFails) {
  Journal j = crash_loop();
  j.add(11'000, "service.failed", "worker");
  auto r = check("restarts-with-backoff", j.events, kWeb);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("worker failed"), std::string::npos) << r.detail;
  r = check("restarts-with-backoff", Journal().add(0, "service.start", "web").events, kWeb);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("never failed"), std::string::npos) << r.detail;
}

// The gpu-jobs workload's ops: schedule passes with placements, moves and unhealthy devices.
Journal& schedule(Journal& j, std::int64_t ms, nlohmann::json placement,
                  nlohmann::json unhealthy = nlohmann::json::array(),
                  nlohmann::json moved = nlohmann::json::array()) {
  return j.add(
      ms, event_kind::kOpOk, "gpu-jobs",
      {{"op", "schedule"}, {"placement", placement}, {"unhealthy", unhealthy}, {"moved", moved}});
}
Journal& done(Journal& j, std::int64_t ms, const std::string& job) {
  return j.add(ms, event_kind::kOpOk, "gpu-jobs", {{"op", "complete"}, {"job", job}});
}

Journal gpu_failure() {
  Journal j;
  j.add(0, event_kind::kOpOk, "gpu-jobs", {{"op", "submit"}, {"job", "a"}});
  j.add(0, event_kind::kOpOk, "gpu-jobs", {{"op", "submit"}, {"job", "b"}});
  schedule(j, 9'000, {{"a", "gpu/CUDA:0"}, {"b", "gpu/CUDA:1"}});
  j.add(10'000, event_kind::kFaultInject, "fault-1", {{"kind", "gpu-xid"}});
  schedule(j, 11'000, {{"a", "gpu/CUDA:1"}, {"b", "gpu/CUDA:1"}}, {"gpu/CUDA:0"},
           {{{"job", "a"}, {"from", "gpu/CUDA:0"}, {"to", "gpu/CUDA:1"}, {"resume_from", 5}}});
  j.add(25'000, event_kind::kFaultHeal, "fault-1", {{"kind", "gpu-xid"}});
  done(j, 30'000, "a");
  return done(j, 31'000, "b");
}

TEST(JobsMovedOff, JobsMovedOffTheFailedDeviceAndAllCompletedPasses) {
  const auto r = check("jobs-moved-off", gpu_failure().events, {{"device", 0}}, "gpu-jobs", 3000);
  EXPECT_EQ(r.status, CheckResult::Status::pass) << r.detail;
}

TEST(JobsMovedOff, LateDetectionAJobLeftOnTheDeviceOrALostJobFails) {
  auto r = check("jobs-moved-off", gpu_failure().events, {{"device", 0}}, "gpu-jobs", 500);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("seen failed 1.0s after the fault"), std::string::npos) << r.detail;

  Journal stuck = gpu_failure();
  schedule(stuck, 12'000, {{"a", "gpu/CUDA:0"}}, {"gpu/CUDA:0"});
  std::sort(stuck.events.begin(), stuck.events.end(),
            [](const Event& x, const Event& y) { return x.sim_ns < y.sim_ns; });
  r = check("jobs-moved-off", stuck.events, {{"device", 0}}, "gpu-jobs", 3000);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("a on the failed CUDA:0"), std::string::npos) << r.detail;

  Journal lost = gpu_failure();
  lost.events.pop_back();  // b never completes
  r = check("jobs-moved-off", lost.events, {{"device", 0}}, "gpu-jobs", 3000);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("b never completed"), std::string::npos) << r.detail;

  r = check("jobs-moved-off", gpu_failure().events, {{"device", 1}}, "gpu-jobs", 3000);
  EXPECT_EQ(r.status, CheckResult::Status::fail);
  EXPECT_NE(r.detail.find("never saw CUDA:1 fail"), std::string::npos) << r.detail;
}

}  // namespace
}  // namespace faultline::chaos
