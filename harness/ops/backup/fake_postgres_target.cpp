#include "harness/ops/backup/fake_postgres_target.h"

#include <fstream>
#include <sstream>

#include "fakes/postgres/postgres_fake.h"
#include "harness/core/error.h"
#include "harness/ops/backup/digest.h"

namespace faultline::ops {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDumpHeader = "-- faultline fake postgres dump\n";
constexpr const char* kSegmentHeader = "-- faultline fake wal segment\n";

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const fs::path& file, const std::string& data) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) throw Error("cannot write " + file.string());
}

TableDigests digests_of(const std::string& conninfo, const std::vector<std::string>& tables) {
  pqxx::connection c(conninfo + " connect_timeout=10");
  pqxx::read_transaction tx(c);
  return digest_tables(tx, tables);
}

class RestoredFake final : public RestoredDatabase {
 public:
  RestoredFake(std::unique_ptr<pg::PostgresFake> fake, std::vector<std::string> tables)
      : fake_(std::move(fake)), tables_(std::move(tables)) {}
  ~RestoredFake() override { fake_->stop(); }
  std::string connection_string() const override { return fake_->connection_string(); }
  TableDigests digests() override { return digests_of(connection_string(), tables_); }

 private:
  std::unique_ptr<pg::PostgresFake> fake_;
  std::vector<std::string> tables_;
};

}  // namespace

FakePostgresTarget::FakePostgresTarget(EventLoop& loop, Clock& clock, pg::PostgresFake& source)
    : loop_(loop), clock_(clock), source_(source) {}

std::vector<std::string> FakePostgresTarget::tables_of(const std::string& sql) {
  std::vector<std::string> out;
  std::istringstream in(sql);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CREATE TABLE ", 0) != 0) continue;
    std::string rest = line.substr(13), name;
    if (!rest.empty() && rest[0] == '"') {
      for (std::size_t i = 1; i < rest.size(); ++i) {
        if (rest[i] == '"' && i + 1 < rest.size() && rest[i + 1] == '"') {
          name += '"';
          ++i;
        } else if (rest[i] == '"') {
          break;
        } else {
          name += rest[i];
        }
      }
    } else {
      name = rest.substr(0, rest.find(' '));
    }
    out.push_back(name);
  }
  return out;
}

std::pair<std::string, TableDigests> FakePostgresTarget::consistent_dump() {
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::string before = source_.dump();
    TableDigests digests = digests_of(source_.connection_string(), tables_of(before));
    if (source_.dump() == before) return {std::move(before), std::move(digests)};
  }
  throw Error("the fake kept changing during 10 dump attempts; no consistent dump");
}

TableDigests FakePostgresTarget::dump(const fs::path& file) {
  auto [sql, digests] = consistent_dump();
  write_all(file, sql);
  return digests;
}

std::optional<std::string> FakePostgresTarget::check_dump(const fs::path& file) {
  std::string sql;
  try {
    sql = read_all(file);
  } catch (const Error& e) {
    return e.what();
  }
  const bool segment = sql.rfind(kSegmentHeader, 0) == 0;
  if (sql.rfind(kDumpHeader, 0) != 0 && !segment) return "not a faultline fake postgres dump";
  pg::PostgresFake scratch(loop_, clock_);
  try {
    scratch.load(segment ? sql.substr(std::string(kSegmentHeader).size()) : sql);
  } catch (const std::exception& e) {
    return std::string("does not load: ") + e.what();
  }
  return std::nullopt;
}

std::optional<std::string> FakePostgresTarget::check_segment(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string header(std::string(kSegmentHeader).size(), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header.size())) ||
      header != kSegmentHeader)
    return "not a fake WAL segment";
  return std::nullopt;
}

std::unique_ptr<RestoredDatabase> FakePostgresTarget::restore(const fs::path& file) {
  const std::string sql = read_all(file);
  if (sql.rfind(kDumpHeader, 0) != 0) throw Error(file.string() + " is not a fake postgres dump");
  auto fake = std::make_unique<pg::PostgresFake>(loop_, clock_);
  fake->start();
  try {
    fake->load(sql);
  } catch (const std::exception& e) {
    fake->stop();
    throw Error(file.string() + " does not load: " + e.what());
  }
  return std::make_unique<RestoredFake>(std::move(fake), tables_of(sql));
}

std::vector<BackupTarget::Segment> FakePostgresTarget::archive_wal(const fs::path& wal_dir) {
  std::uint64_t next = 1;
  for (const auto& entry : fs::directory_iterator(wal_dir)) {
    const std::string name = entry.path().stem().string();
    if (entry.path().extension() == ".walsql" &&
        name.find_first_not_of("0123456789") == std::string::npos)
      next = std::max<std::uint64_t>(next, std::stoull(name) + 1);
  }
  auto [sql, digests] = consistent_dump();
  char name[32];
  std::snprintf(name, sizeof name, "%016llu.walsql", static_cast<unsigned long long>(next));
  const fs::path file = wal_dir / name;
  write_all(file, kSegmentHeader + sql);
  return {Segment{file, std::move(digests), {{"segment", next}}}};
}

std::unique_ptr<RestoredDatabase> FakePostgresTarget::restore_with_wal(
    const fs::path& base, const std::vector<fs::path>& segments, const nlohmann::json&) {
  const std::string base_sql = read_all(base);
  if (base_sql.rfind(kDumpHeader, 0) != 0) throw Error(base.string() + " is not a fake dump");
  auto fake = std::make_unique<pg::PostgresFake>(loop_, clock_);
  fake->start();
  std::string sql = base_sql;
  fs::path current = base;
  try {
    fake->load(sql);
    // Replayed in order; each segment holds the whole committed state as of its end.
    for (const fs::path& segment : segments) {
      current = segment;
      const std::string text = read_all(segment);
      if (text.rfind(kSegmentHeader, 0) != 0) throw Error("not a fake wal segment");
      sql = text.substr(std::string(kSegmentHeader).size());
      fake->load(sql);
    }
  } catch (const std::exception& e) {
    fake->stop();
    throw Error(current.string() + " does not replay: " + e.what());
  }
  return std::make_unique<RestoredFake>(std::move(fake), tables_of(sql));
}

}  // namespace faultline::ops
