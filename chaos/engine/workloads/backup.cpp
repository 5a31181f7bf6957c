// backup: the operator's backups of the application's database while it is being written — a
// BackupManager (harness/ops/backup) takes a backup every `every_ms` of scenario time, at most
// `count` of them; after the method, finish() restores the newest backup that passes
// verification into a fresh database (falling back past corrupted ones), checks the restored rows
// against the rows the backup recorded, and reports RPO and RTO.
//
// Targets: on the fake backend the Postgres fake itself, dumped as SQL and restored into a fresh
// fake (FakePostgresTarget); on the local backend the real server, `pg_dump -Fc` and a restore
// into a new database on it (PostgresTarget). Backups live in <run directory>/backups/<name>
// (backup_faults.cpp corrupts them there) and go with the run.
//
// Journal (subject: the workload): op.invoke / op.ok {"op":"backup","backup_id","size_bytes"} or
// op.fail per backup; op.invoke / op.ok {"op":"restore","backup_id","verified","skipped":[{
// "backup_id","reason"}],"rpo_ms","rpo_source","rto_ms","rows"} or op.fail after the method.
// RPO is the BackupManager's own report at restore time (now - the newest recoverable point,
// corrupted backups excluded); RTO is the restore's duration on the run's clock (simulated time
// in fake mode, where a restore takes none).
//
// The manager is called on the runner's thread, not through the OpDriver: it waits on no
// simulated timer (a dump or a restore only talks to the database), and a timer fired meanwhile
// would move simulated time by the machine's speed.
#include <filesystem>
#include <map>

#include "chaos/engine/environment.h"
#include "chaos/engine/workload.h"
#include "harness/backends/fake_services.h"
#include "harness/core/error.h"
#include "harness/ops/backup/backup_manager.h"
#include "harness/ops/backup/fake_postgres_target.h"
#include "harness/ops/backup/postgres_target.h"

namespace faultline::chaos {

std::filesystem::path backup_directory(Environment& env, const std::string& workload);

namespace {

std::int64_t ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

class BackupWorkload final : public Workload {
 public:
  BackupWorkload(const WorkloadSpec& spec, Environment& env)
      : Workload(spec.name),
        env_(env),
        target_(spec.target),
        every_(std::chrono::milliseconds(spec.params.value("every_ms", 10'000))),
        count_(spec.params.value("count", 4)),
        rpo_target_(spec.params.value("rpo_target_s", 300)) {
    if (every_ <= Duration(0) || count_ < 1 || rpo_target_ < 1)
      throw Error("backup: needs every_ms > 0, count >= 1 and rpo_target_s >= 1");
  }

  ~BackupWorkload() override { manager_.reset(); }

  void setup() override {
    auto* h = env_.handle(target_);
    if (!h) throw Error("backup: service '" + target_ + "' is not running");
    if ((fake_ = backends::fake_postgres_of(*h))) {
      backup_target_ = std::make_unique<ops::FakePostgresTarget>(env_.loop(), env_.clock(), *fake_);
    } else {
      const auto& ex = h->endpoint().exports;
      auto get = [&](const char* k, const std::string& d) {
        auto it = ex.find(k);
        return it != ex.end() && !it->second.empty() ? it->second : d;
      };
      ops::PostgresTargetOptions o;
      o.host = h->endpoint().host.empty() ? "127.0.0.1" : h->endpoint().host;
      o.port = h->endpoint().port;
      o.user = get("PGUSER", "postgres");
      o.database = get("PGDATABASE", "postgres");
      backup_target_ = std::make_unique<ops::PostgresTarget>(env_.run_directory(), o);
    }
    ops::BackupConfig c;
    c.directory = backup_directory(env_, name());
    c.rpo_target = std::chrono::seconds(rpo_target_);
    manager_ = std::make_unique<ops::BackupManager>(c, env_.clock(), nullptr, *backup_target_);
  }

  void step() override {
    if (taken_ >= count_) return;
    const TimePoint now = env_.clock().now();
    if (last_ && now - *last_ < every_) return;
    last_ = now;
    ++taken_;
    auto& j = env_.journal();
    j.append(event_kind::kOpInvoke, name(), {{"op", "backup"}, {"n", taken_}});
    ops::BackupResult r;
    try {
      r = manager_->create_backup();
    } catch (const std::exception& e) {
      r.status = "failed", r.error = e.what();
    }
    if (r.status == "success") {
      ++ok_;
      j.append(event_kind::kOpOk, name(),
               {{"op", "backup"}, {"backup_id", r.backup_id}, {"size_bytes", r.size_bytes}});
    } else {
      ++failed_;
      j.append(event_kind::kOpFail, name(),
               {{"op", "backup"}, {"reason", "backup-failed"}, {"error", r.error}});
    }
  }

  void finish() override {
    auto& j = env_.journal();
    j.append(event_kind::kOpInvoke, name(), {{"op", "restore"}});
    const TimePoint t0 = env_.clock().now();
    ops::RestoreResult r;
    try {
      r = manager_->restore();
    } catch (const std::exception& e) {
      r.ok = false, r.problem = e.what();
    }
    const Duration rto = env_.clock().now() - t0;
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& s : r.skipped)
      skipped.push_back({{"backup_id", s.backup_id}, {"reason", s.reason}});
    if (!r.ok) {
      j.append(event_kind::kOpFail, name(),
               {{"op", "restore"},
                {"reason", "restore-failed"},
                {"problem", r.problem},
                {"skipped", skipped}});
      return;
    }
    const ops::RpoReport rpo = manager_->rpo_check();
    nlohmann::json rows = nlohmann::json::object();
    try {
      for (const auto& [table, d] : r.database->digests()) rows[table] = d.rows;
    } catch (const std::exception& e) {
      rows["error"] = e.what();
    }
    j.append(event_kind::kOpOk, name(),
             {{"op", "restore"},
              {"backup_id", r.backup_id},
              {"verified", r.verified},
              {"problem", r.problem},
              {"skipped", skipped},
              {"rpo_ms", ms(rpo.rpo)},
              {"rpo_source", rpo.source},
              {"rpo_target_ms", ms(rpo.target)},
              {"rto_ms", ms(rto)},
              {"rows", rows}});
    rpo_ms_ = static_cast<double>(ms(rpo.rpo));
    r.database.reset();  // drops the restored database
  }

  std::map<std::string, double> metrics() const override {
    return {{"backups", static_cast<double>(ok_)},
            {"backup_failures", static_cast<double>(failed_)},
            {"rpo_ms", rpo_ms_}};
  }

 private:
  Environment& env_;
  std::string target_;
  Duration every_;
  int count_;
  int rpo_target_;
  std::shared_ptr<pg::PostgresFake> fake_;
  std::unique_ptr<ops::BackupTarget> backup_target_;
  std::unique_ptr<ops::BackupManager> manager_;
  std::optional<TimePoint> last_;
  int taken_ = 0, ok_ = 0, failed_ = 0;
  double rpo_ms_ = 0;
};

}  // namespace

std::unique_ptr<Workload> make_backup_workload(const WorkloadSpec& spec, Environment& env) {
  return std::make_unique<BackupWorkload>(spec, env);
}

}  // namespace faultline::chaos
