#include "harness/ops/backup/postgres_target.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "harness/core/error.h"
#include "harness/core/run_dir.h"
#include "harness/core/supervisor.h"
#include "harness/ops/backup/digest.h"

namespace faultline::ops {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string tail_of(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 1500 ? s.substr(s.size() - 1500) : s;
}

class RestoredPostgres final : public RestoredDatabase {
 public:
  RestoredPostgres(RunDirectory& run, std::string admin_conninfo, std::string conninfo,
                   std::string name, std::uint64_t heal_id)
      : run_(run),
        admin_(std::move(admin_conninfo)),
        conninfo_(std::move(conninfo)),
        name_(std::move(name)),
        heal_id_(heal_id) {}
  ~RestoredPostgres() override {
    try {
      pqxx::connection c(admin_);
      pqxx::nontransaction tx(c);
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
      run_.heal_done(heal_id_);
    } catch (const std::exception&) {
      // the heal action stays registered: the reaper drops it
    }
  }
  std::string connection_string() const override { return conninfo_; }
  TableDigests digests() override { return digest_public_tables(conninfo_); }

 private:
  RunDirectory& run_;
  std::string admin_, conninfo_, name_;
  std::uint64_t heal_id_;
};

}  // namespace

PostgresTarget::PostgresTarget(RunDirectory& run, PostgresTargetOptions options)
    : run_(run), options_(std::move(options)) {
  for (const char* tool : {"pg_dump", "pg_restore", "psql"}) {
    if (!fs::exists(options_.bin_dir / tool))
      throw UsageError("PostgreSQL tool not found: " + (options_.bin_dir / tool).string());
  }
  if (options_.port <= 0 || options_.port > 65535)
    throw UsageError("PostgreSQL port out of range: " + std::to_string(options_.port));
}

std::string PostgresTarget::archive_command_for(const fs::path& wal_dir) {
  return "test ! -f " + wal_dir.string() + "/%f && cp %p " + wal_dir.string() + "/%f";
}

std::string PostgresTarget::connection_string(const std::string& database) const {
  return "host=" + options_.host + " port=" + std::to_string(options_.port) +
         " user=" + options_.user + " dbname=" + database + " connect_timeout=10";
}

std::string PostgresTarget::run_tool(std::vector<std::string> argv) {
  const fs::path log = run_.path() / ("pgtool-" + std::to_string(::getpid()) + ".log");
  Supervisor supervisor(run_);
  Child child = supervisor.spawn(ProcessSpec{std::move(argv), {}, {}, log, log});
  std::string failure;
  if (!wait_for_exit(child.pid(), options_.tool_timeout)) {
    child.terminate(1000ms);
    failure = "timed out";
  }
  const ExitStatus status = child.wait();
  if (failure.empty() && !status.success()) failure = status.str();
  if (!failure.empty()) failure += ": " + tail_of(log);
  std::error_code ec;
  fs::remove(log, ec);
  return failure;
}

TableDigests PostgresTarget::dump(const fs::path& file) {
  pqxx::connection c(connection_string(options_.database));
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
  const std::string snapshot = tx.exec1("SELECT pg_export_snapshot()")[0].c_str();
  const std::string failure =
      run_tool({(options_.bin_dir / "pg_dump").string(), "-Fc", "--snapshot=" + snapshot, "-h",
                options_.host, "-p", std::to_string(options_.port), "-U", options_.user, "-f",
                file.string(), options_.database});
  if (!failure.empty()) throw Error("pg_dump failed (" + failure + ")");
  TableDigests digests = digest_tables(tx, public_tables(tx));
  tx.commit();
  if (options_.base_backup) {
    const fs::path staging = file.parent_path() / "pg_basebackup.tmp";
    const std::string base_failure =
        run_tool({(options_.bin_dir / "pg_basebackup").string(), "-h", options_.host, "-p",
                  std::to_string(options_.port), "-U", options_.user, "-D", staging.string(), "-Ft",
                  "-X", "none", "--checkpoint=fast", "--no-sync"});
    if (!base_failure.empty()) throw Error("pg_basebackup failed (" + base_failure + ")");
    fs::rename(staging / "base.tar", file.parent_path() / "base.tar");
    fs::remove_all(staging);
  }
  return digests;
}

std::optional<std::string> PostgresTarget::check_dump(const fs::path& file) {
  const fs::path list = run_.path() / ("pg_restore-list-" + std::to_string(::getpid()) + ".txt");
  const std::string failure = run_tool(
      {(options_.bin_dir / "pg_restore").string(), "--list", "-f", list.string(), file.string()});
  std::error_code ec;
  const bool listed = fs::exists(list, ec) && fs::file_size(list, ec) > 0;
  fs::remove(list, ec);
  if (!failure.empty()) return "pg_restore --list rejects it (" + failure + ")";
  if (!listed) return "pg_restore --list lists nothing";
  return std::nullopt;
}

std::unique_ptr<RestoredDatabase> PostgresTarget::restore(const fs::path& file) {
  const std::string name =
      "faultline_restore_" + std::to_string(::getpid()) + "_" + std::to_string(++restores_);
  const std::string admin = connection_string(options_.database);
  const std::uint64_t heal_id = run_.add_heal_action(
      "drop restored database " + name,
      {(options_.bin_dir / "psql").string(), "-h", options_.host, "-p",
       std::to_string(options_.port), "-U", options_.user, "-d", options_.database, "-c",
       "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"});
  {
    pqxx::connection c(admin);
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE " + tx.quote_name(name));
  }
  auto restored =
      std::make_unique<RestoredPostgres>(run_, admin, connection_string(name), name, heal_id);
  const std::string failure =
      run_tool({(options_.bin_dir / "pg_restore").string(), "--exit-on-error", "--no-owner", "-h",
                options_.host, "-p", std::to_string(options_.port), "-U", options_.user, "-d", name,
                file.string()});
  if (!failure.empty()) throw Error("pg_restore failed (" + failure + ")");
  return restored;
}

std::vector<BackupTarget::Segment> PostgresTarget::archive_wal(const fs::path& wal_dir) {
  std::string wanted;
  {
    pqxx::connection c(connection_string(options_.database));
    pqxx::nontransaction tx(c);
    // The segment being written now is closed and handed to the archiver (no-op when idle).
    wanted = tx.exec1("SELECT pg_walfile_name(pg_switch_wal())")[0].c_str();
    const auto deadline = std::chrono::steady_clock::now() + options_.tool_timeout;
    for (;;) {
      const pqxx::row r = tx.exec1(
          "SELECT coalesce(last_archived_wal, ''), coalesce(last_failed_wal, ''), "
          "archived_count FROM pg_stat_archiver");
      const std::string last = r[0].c_str();
      if (!last.empty() && last.substr(0, 24) >= wanted.substr(0, 24)) break;
      if (std::chrono::steady_clock::now() > deadline) {
        throw Error("the archiver did not ship " + wanted + " in time (last archived '" + last +
                    "', last failed '" + r[1].c_str() + "')");
      }
      std::this_thread::sleep_for(20ms);  // bounded poll of the archiver's progress
    }
  }
  std::vector<std::string> fresh;
  for (const auto& entry : fs::directory_iterator(wal_dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "manifest.json" || name.ends_with(".tmp") || archived_.count(name)) continue;
    fresh.push_back(name);
  }
  std::sort(fresh.begin(), fresh.end());
  std::vector<Segment> out;
  for (const std::string& name : fresh) {
    archived_.insert(name);
    out.push_back(Segment{wal_dir / name, std::nullopt, {{"walfile", name}}});
  }
  // The rows as of the switch belong to the newest segment of this batch.
  if (!out.empty()) out.back().digests = digest_public_tables(connection_string(options_.database));
  return out;
}

std::optional<std::string> PostgresTarget::check_segment(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return "unreadable";
  const std::string name = file.filename().string();
  if (name.size() == 24 && name.find_first_not_of("0123456789ABCDEF") == std::string::npos &&
      size != 16u * 1024 * 1024) {
    return "a WAL segment of " + std::to_string(size) + " bytes (16 MiB expected)";
  }
  return std::nullopt;
}

std::unique_ptr<RestoredDatabase> PostgresTarget::restore_with_wal(
    const fs::path& base, const std::vector<fs::path>& segments, const nlohmann::json&) {
  const fs::path base_tar = base.parent_path() / "base.tar";
  if (!fs::exists(base_tar)) {
    if (segments.empty()) return restore(base);
    throw Error("no physical base backup (base.tar) next to " + base.string() +
                "; archived WAL cannot be replayed onto a logical dump");
  }
  if (!options_.start_server) throw Error("PostgresTarget: no start_server to run a recovery");
  const fs::path staging =
      run_.path() / ("pitr-" + std::to_string(::getpid()) + "-" + std::to_string(++restores_));
  const fs::path data = staging / "data";
  fs::create_directories(data / "faultline_wal");
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{staging};
  if (std::string f = run_tool({"tar", "-xf", base_tar.string(), "-C", data.string()}); !f.empty())
    throw Error("unpacking " + base_tar.string() + " failed (" + f + ")");
  // Only the checked segments are offered: recovery ends where the unbroken chain ends.
  for (const fs::path& segment : segments) {
    fs::copy_file(segment, data / "faultline_wal" / segment.filename());
  }
  std::ofstream(data / "recovery.signal").close();
  std::ofstream conf(data / "postgresql.auto.conf", std::ios::app);
  conf << "\n# faultline point-in-time restore\n"
       << "restore_command = 'cp faultline_wal/%f \"%p\"'\n"
       << "recovery_target_action = 'promote'\n"
       << "hot_standby = off\n"
       << "archive_mode = off\n";
  conf.close();
  if (!conf) throw Error("cannot write the recovery settings");
  return options_.start_server(data);
}

}  // namespace faultline::ops
