#include "harness/ops/backup/manifest.h"

#include <ctime>
#include <fstream>

#include "harness/core/error.h"

namespace faultline::ops {

nlohmann::json BackupManager::Manifest::to_json() const {
  nlohmann::json files_json = nlohmann::json::array();
  for (const File& f : files) {
    files_json.push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
  }
  return {{"format_version", 1},
          {"backup_id", backup_id},
          {"seq", seq},
          {"timestamp", timestamp},
          {"wall_ns", wall_ns},
          {"clock_ns", clock_ns},
          {"wal_next", wal_next},
          {"target", target},
          {"format", format},
          {"files", files_json},
          {"tables", ops::to_json(tables)}};
}

BackupManager::Manifest BackupManager::Manifest::from_json(const nlohmann::json& j,
                                                           std::filesystem::path dir) {
  if (j.at("format_version").get<int>() != 1) throw Error("unknown manifest format_version");
  Manifest m;
  m.backup_id = j.at("backup_id").get<std::string>();
  m.seq = j.at("seq").get<std::uint64_t>();
  m.timestamp = j.at("timestamp").get<std::string>();
  m.wall_ns = j.at("wall_ns").get<std::int64_t>();
  m.clock_ns = j.at("clock_ns").get<std::int64_t>();
  m.wal_next = j.at("wal_next").get<std::uint64_t>();
  m.target = j.at("target").get<std::string>();
  m.format = j.at("format").get<std::string>();
  for (const auto& f : j.at("files")) {
    File file{f.at("name").get<std::string>(), f.at("size").get<std::uint64_t>(),
              f.at("sha256").get<std::string>()};
    if (file.name.empty() || file.name.find('/') != std::string::npos || file.name == "..")
      throw Error("manifest names a file outside its backup: " + file.name);
    m.files.push_back(std::move(file));
  }
  if (m.files.empty()) throw Error("manifest lists no files");
  m.tables = table_digests_from_json(j.at("tables"));
  m.dir = std::move(dir);
  return m;
}

nlohmann::json BackupManager::WalEntry::to_json() const {
  nlohmann::json j = {{"seq", seq},          {"file", file},         {"size", size},
                      {"sha256", sha256},    {"clock_ns", clock_ns}, {"timestamp", timestamp},
                      {"position", position}};
  if (tables) j["tables"] = ops::to_json(*tables);
  return j;
}

BackupManager::WalEntry BackupManager::WalEntry::from_json(const nlohmann::json& j) {
  WalEntry e;
  e.seq = j.at("seq").get<std::uint64_t>();
  e.file = j.at("file").get<std::string>();
  if (e.file.empty() || e.file.find('/') != std::string::npos)
    throw Error("WAL manifest names a file outside the archive: " + e.file);
  e.size = j.at("size").get<std::uint64_t>();
  e.sha256 = j.at("sha256").get<std::string>();
  e.clock_ns = j.at("clock_ns").get<std::int64_t>();
  e.timestamp = j.value("timestamp", "");
  e.position = j.value("position", nlohmann::json::object());
  if (j.contains("tables")) e.tables = table_digests_from_json(j.at("tables"));
  return e;
}

void write_file_atomically(const std::filesystem::path& file, const std::string& text) {
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, file);
}

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace faultline::ops
