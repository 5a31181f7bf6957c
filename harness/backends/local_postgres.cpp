#include "harness/backends/local_postgres.h"

#include <libpq-fe.h>
#include <signal.h>

#include <fstream>

#include "chaos/netns/network_namespace.h"
#include "harness/backends/hook_fault.h"
#include "harness/backends/hooks.h"
#include "harness/backends/local_process.h"
#include "harness/backends/postgres_endpoint.h"
#include "harness/backends/probes.h"

namespace faultline::backends {
namespace {

// Runs `sql` as the postgres superuser; the error text, or "" on success.
std::string exec_as_postgres(const std::string& host, int port, const std::string& sql) {
  const std::string conninfo = "host=" + host + " port=" + std::to_string(port) +
                               " user=postgres dbname=postgres connect_timeout=2";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    const auto st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) error = PQerrorMessage(conn);
    PQclear(res);
  }
  PQfinish(conn);
  return error;
}

// A SQL string literal (the names come from our own stack file, but quote them anyway).
std::string literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}
std::string ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Clients in a namespace's service come from the host's end of the veth, not loopback: trust that
// one address too (once; a restart keeps the data directory). The namespace has no other peer.
void allow_host_of(const netns::NetworkNamespace& ns, const std::filesystem::path& hba) {
  const std::string line = "host all all " + ns.host_address() + "/32 trust";
  {
    std::ifstream in(hba);
    for (std::string l; std::getline(in, l);)
      if (l == line) return;
  }
  std::ofstream out(hba, std::ios::app);
  out << "\n# faultline: the host's end of the veth of network namespace " << ns.name() << "\n"
      << line << "\n";
  if (!out) throw Error("cannot add the host's veth address to " + hba.string());
}

class LocalPostgresHandle final : public stack::ServiceHandle {
 public:
  LocalPostgresHandle(std::shared_ptr<LocalProcess> process, std::shared_ptr<PgDataDir> data,
                      const stack::Service& service, const std::string& host, int port,
                      std::filesystem::path log, std::shared_ptr<netns::NetworkNamespace> ns)
      : process_(std::move(process)),
        data_(std::move(data)),
        log_(std::move(log)),
        ns_(std::move(ns)) {
    endpoint_ = postgres_endpoint(service, host, port, data_->path().string());
    user_ = service.setting("user", "postgres");
    database_ = service.setting("database", "postgres");
  }
  ~LocalPostgresHandle() override { process_->stop(SIGINT, std::chrono::seconds(10)); }

  const stack::Endpoint& endpoint() const override { return endpoint_; }

  stack::ProbeResult probe() override {
    if (!process_->running()) return {false, "postgres has exited"};
    if (!bootstrapped_) {
      if (auto why = bootstrap(); !why.empty()) return {false, why};
      bootstrapped_ = true;
    }
    return ping_postgres(postgres_conninfo(endpoint_));
  }
  bool running() const override { return process_->running(); }
  std::optional<int> exit_code() const override { return process_->exit_code(); }
  // Fast shutdown (SIGINT): sessions rolled back, a checkpoint, exit; then SIGKILL after grace.
  void stop(std::chrono::milliseconds grace) override { process_->stop(SIGINT, grace); }
  std::set<std::string> hooks() const override {
    return {hook::kKill, hook::kPause, hook::kAdminShutdown};
  }
  std::unique_ptr<stack::HookFault> apply_hook(const std::string& name,
                                               const nlohmann::json& args) override {
    if (name == hook::kKill) return process_->kill();
    if (name == hook::kPause) return process_->pause();
    if (name == hook::kAdminShutdown) {
      if (hook_int(name, args, "refuse_ms", 0, 0) != 0) {
        throw UsageError(
            "hook 'admin-shutdown': a local PostgreSQL cannot refuse connections "
            "afterwards (refuse_ms); use the fault proxy");
      }
      const std::string error =
          exec_as_postgres(endpoint_.host, endpoint_.port,
                           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
      if (!error.empty()) throw Error("admin-shutdown failed: " + error);
      return std::make_unique<CallbackHookFault>(nullptr);
    }
    return ServiceHandle::apply_hook(name, args);
  }
  bool keeps_logs() const override { return true; }  // this start's log: truncated per spawn
  std::vector<std::string> logs() const override {
    std::vector<std::string> lines;
    std::ifstream in(log_);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  // Creates the service's role and database once the server answers; "" when done.
  std::string bootstrap() {
    if (user_ != "postgres") {
      const std::string error = exec_as_postgres(
          endpoint_.host, endpoint_.port,
          "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = " + literal(user_) +
              ") THEN CREATE ROLE " + ident(user_) + " LOGIN SUPERUSER; END IF; END$$");
      if (!error.empty()) return "creating role " + user_ + ": " + error;
    }
    if (database_ != "postgres") {
      // CREATE DATABASE cannot run in a DO block; an existing one (a restart) is fine.
      const std::string error =
          exec_as_postgres(endpoint_.host, endpoint_.port,
                           "CREATE DATABASE " + ident(database_) + " OWNER " + ident(user_));
      if (!error.empty() && error.find("already exists") == std::string::npos) {
        return "creating database " + database_ + ": " + error;
      }
    }
    return "";
  }

  std::shared_ptr<LocalProcess> process_;
  std::shared_ptr<PgDataDir> data_;
  std::filesystem::path log_;
  stack::Endpoint endpoint_;
  std::string user_;
  std::string database_;
  bool bootstrapped_ = false;
  std::shared_ptr<netns::NetworkNamespace> ns_;  // destroyed after the server stopped (~handle)
};

}  // namespace

std::unique_ptr<stack::ServiceHandle> start_local_postgres(
    RunDirectory& run, const stack::Service& service, std::shared_ptr<PgDataDir> data, int port,
    const std::filesystem::path& log, std::shared_ptr<netns::NetworkNamespace> ns) {
  const std::string dir = data->path().string();
  const std::string host = ns ? ns->namespace_address() : "127.0.0.1";
  std::vector<std::string> argv = {
      (kPgBinDir / "postgres").string(), "-D", dir, "-p", std::to_string(port), "-k", dir, "-c",
      ("listen_addresses=" + host), "-c", "fsync=off",
      // A commit a client saw must survive a kill of a
      // persistent server (fsync off is safe: the OS survives).
      "-c", std::string("synchronous_commit=") + (service.persistent ? "on" : "off"), "-c",
      "full_page_writes=off", "-c", "timezone=UTC", "-c",
      // Dynamic shared memory in the data directory: a SIGKILLed server's segments go with it
      // (posix segments would stay in /dev/shm as PostgreSQL.<n>).
      "dynamic_shared_memory_type=mmap", "-c",
      "max_connections=" + service.setting("max-connections", "100")};
  Supervisor supervisor(run);
  if (ns) allow_host_of(*ns, data->path() / "pg_hba.conf");
  argv = pg_as_user(pg_os_user(), argv);
  if (ns) argv = ns->exec_argv(argv);  // `ip netns exec` (root), then setpriv, then postgres
  Child child = supervisor.spawn(ProcessSpec{argv, {}, {}, log, log});
  auto process =
      std::make_shared<LocalProcess>(run, std::move(child), "postgres '" + service.name + "'");
  return std::make_unique<LocalPostgresHandle>(std::move(process), std::move(data), service, host,
                                               port, log, std::move(ns));
}

}  // namespace faultline::backends
