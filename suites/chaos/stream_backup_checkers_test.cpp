// The stream and backup checkers (no-acked-message-lost, lag-recovers-within, backup-restored)
// on hand-written journals: each passes on the journal its scenario should produce and fails, with
// the reason, on the journal of the failure it exists to catch.
#include <gtest/gtest.h>

#include "chaos/engine/checkers.h"

namespace faultline::chaos {
namespace {

constexpr std::int64_t kS = 1'000'000'000;

class Events {
 public:
  Events& at(std::int64_t seconds) {
    t_ = seconds * kS;
    return *this;
  }
  Events& add(const char* kind, const std::string& subject, nlohmann::json fields) {
    Event e;
    e.seq = events_.size() + 1;
    e.sim_ns = t_;
    e.kind = kind;
    e.subject = subject;
    e.fields = std::move(fields);
    events_.push_back(std::move(e));
    return *this;
  }
  Events& fault(int from, int to, const std::string& kind = "broker-down") {
    at(from).add(event_kind::kFaultInject, "fault-1", {{"kind", kind}});
    return at(to).add(event_kind::kFaultHeal, "fault-1", {{"kind", kind}});
  }
  const std::vector<Event>& events() const { return events_; }

 private:
  std::int64_t t_ = 0;
  std::vector<Event> events_;
};

InvariantSpec spec(const std::string& check, const std::string& workload, int within_s = 0,
                   nlohmann::json params = nlohmann::json::object()) {
  InvariantSpec s;
  s.check = check;
  s.workload = workload;
  s.within = std::chrono::seconds(within_s);
  s.params = std::move(params);
  return s;
}

CheckResult check(const InvariantSpec& s, const Events& j) {
  return run_checkers({s}, j.events()).at(0);
}

using Status = CheckResult::Status;

TEST(NoAckedMessageLost, PassesWhenEveryAckedMessageIsConsumedAndFailsOtherwise) {
  Events j;
  j.add(event_kind::kOpOk, "stream", {{"op", "produce"}, {"id", 1}})
      .add(event_kind::kOpOk, "stream", {{"op", "produce"}, {"id", 2}})
      .add(event_kind::kOpInfo, "stream", {{"op", "produce"}, {"id", 3}})  // unknown: not owed
      .add(event_kind::kOpOk, "stream", {{"op", "consume"}, {"id", 2}})
      .add(event_kind::kOpOk, "stream", {{"op", "consume"}, {"id", 1}});
  EXPECT_EQ(check(spec("no-acked-message-lost", "stream"), j).status, Status::pass);
  j.add(event_kind::kOpOk, "stream", {{"op", "produce"}, {"id", 4}});
  const auto r = check(spec("no-acked-message-lost", "stream"), j);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_NE(r.detail.find("first id 4"), std::string::npos) << r.detail;
  EXPECT_EQ(check(spec("no-acked-message-lost", "other"), j).status, Status::unknown);
}

Events stream_with_lag(std::int64_t lag_after_heal) {
  Events j;
  j.fault(10, 25);
  j.at(12).add(event_kind::kOpOk, "stream", {{"op", "consume"}, {"id", 7}});
  j.at(12).add(event_kind::kOpOk, "stream", {{"op", "poll"}, {"lag", 4}});
  j.at(25).add(lag_after_heal ? event_kind::kOpFail : event_kind::kOpOk, "stream",
               {{"op", "poll"}, {"lag", lag_after_heal}});
  j.at(28).add(event_kind::kOpOk, "stream", {{"op", "poll"}, {"lag", 0}});
  return j;
}

TEST(LagRecoversWithin, MeasuresFromTheHealToTheFirstPollBackUnderTheBound) {
  auto r = check(spec("lag-recovers-within", "stream", 5), stream_with_lag(0));
  EXPECT_EQ(r.status, Status::pass) << r.detail;
  EXPECT_NE(r.detail.find("lag at most 4"), std::string::npos) << r.detail;
  // Back at 28 s, 3 s after the heal: within 5 s, not within 2 s.
  EXPECT_EQ(check(spec("lag-recovers-within", "stream", 5), stream_with_lag(9)).status,
            Status::pass);
  r = check(spec("lag-recovers-within", "stream", 2), stream_with_lag(9));
  EXPECT_EQ(r.status, Status::fail) << r.detail;
  // A bound of 10 accepts a lag of 9 at once.
  EXPECT_EQ(
      check(spec("lag-recovers-within", "stream", 0, {{"max_lag", 10}}), stream_with_lag(9)).status,
      Status::pass);
}

TEST(LagRecoversWithin, FailsWhenConsumersStallDuringTheFault) {
  Events j;
  j.fault(10, 25);
  j.at(12).add(event_kind::kOpFail, "stream", {{"op", "poll"}, {"lag", 6}});
  j.at(26).add(event_kind::kOpOk, "stream", {{"op", "consume"}, {"id", 1}});
  j.at(26).add(event_kind::kOpOk, "stream", {{"op", "poll"}, {"lag", 0}});
  auto r = check(spec("lag-recovers-within", "stream", 5), j);
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_NE(r.detail.find("stalled"), std::string::npos) << r.detail;
  EXPECT_EQ(check(spec("lag-recovers-within", "stream", 5, {{"consume_during", false}}), j).status,
            Status::pass);
}

Events backups(const std::string& restored, bool detected, std::int64_t rpo_ms,
               bool verified = true) {
  Events j;
  for (int i = 1; i <= 3; ++i)
    j.at(i * 10).add(event_kind::kOpOk, "backup",
                     {{"op", "backup"}, {"backup_id", "b" + std::to_string(i)}});
  j.at(35).add(event_kind::kDecision, "corrupt-backup",
               {{"workload", "backup"}, {"backup_id", "b3"}});
  nlohmann::json skipped = nlohmann::json::array();
  if (detected) skipped.push_back({{"backup_id", "b3"}, {"reason", "corrupted: SHA-256 mismatch"}});
  j.at(40).add(event_kind::kOpOk, "backup",
               {{"op", "restore"},
                {"backup_id", restored},
                {"verified", verified},
                {"skipped", skipped},
                {"rpo_ms", rpo_ms},
                {"rto_ms", 0}});
  return j;
}

TEST(BackupRestored, PassesOnlyForAVerifiedFallbackToTheNewestGoodBackupWithinTheRpo) {
  const auto s = spec("backup-restored", "backup", 30);
  auto r = check(s, backups("b2", true, 20'000));
  EXPECT_EQ(r.status, Status::pass) << r.detail;
  EXPECT_NE(r.detail.find("RPO 20.0s"), std::string::npos) << r.detail;

  r = check(s, backups("b3", true, 10'000));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_NE(r.detail.find("corrupted backup b3"), std::string::npos) << r.detail;

  r = check(s, backups("b2", false, 20'000));
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_NE(r.detail.find("not detected"), std::string::npos) << r.detail;

  r = check(s, backups("b1", true, 30'000));  // skipped a good backup too
  EXPECT_EQ(r.status, Status::fail);
  EXPECT_NE(r.detail.find("newest good backup was b2"), std::string::npos) << r.detail;

  EXPECT_EQ(check(s, backups("b2", true, 31'000)).status, Status::fail);  // RPO over the bound
  EXPECT_EQ(check(s, backups("b2", true, 20'000, false)).status, Status::fail);  // not verified
}

TEST(BackupRestored, AFailedRestoreFailsAndNoCorruptionIsUndecided) {
  const auto s = spec("backup-restored", "backup", 30);
  Events failed;
  failed.add(event_kind::kOpFail, "backup",
             {{"op", "restore"}, {"reason", "restore-failed"}, {"problem", "no good backup"}});
  EXPECT_EQ(check(s, failed).status, Status::fail);
  Events clean;
  clean.add(event_kind::kOpOk, "backup", {{"op", "backup"}, {"backup_id", "b1"}})
      .add(event_kind::kOpOk, "backup",
           {{"op", "restore"},
            {"backup_id", "b1"},
            {"verified", true},
            {"skipped", nlohmann::json::array()},
            {"rpo_ms", 1000}});
  EXPECT_EQ(check(s, clean).status, Status::unknown);
}

}  // namespace
}  // namespace faultline::chaos
