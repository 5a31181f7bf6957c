// The on-disk records of a backup directory (internal to faultline_backup): a backup's
// manifest.json and the WAL archive's manifest.json, their JSON forms, and atomic writes.
//
// Thread safety: values; the BackupManager's lock serialises the files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/ops/backup/backup_manager.h"

namespace faultline::ops {

struct BackupManager::Manifest {
  struct File {
    std::string name;
    std::uint64_t size = 0;
    std::string sha256;
  };
  std::string backup_id;
  std::uint64_t seq = 0;
  std::string timestamp;
  std::int64_t wall_ns = 0;    // Clock::wall_now, for retention
  std::int64_t clock_ns = 0;   // Clock::now, for RPO
  std::uint64_t wal_next = 1;  // the first WAL entry archived after this backup began
  std::string target;
  std::string format;
  std::vector<File> files;
  TableDigests tables;
  std::filesystem::path dir;  // not stored

  nlohmann::json to_json() const;
  // Throws (nlohmann::json exceptions or Error) on a malformed manifest.
  static Manifest from_json(const nlohmann::json& j, std::filesystem::path dir);
};

struct BackupManager::WalEntry {
  std::uint64_t seq = 0;  // archive order, never reused
  std::string file;       // name inside wal/
  std::uint64_t size = 0;
  std::string sha256;
  std::int64_t clock_ns = 0;
  std::string timestamp;
  nlohmann::json position;
  std::optional<TableDigests> tables;

  nlohmann::json to_json() const;
  static WalEntry from_json(const nlohmann::json& j);
};

// Writes `text` to `file` through a temporary file and rename, so readers never see half of it.
void write_file_atomically(const std::filesystem::path& file, const std::string& text);
std::string iso8601_utc(std::chrono::system_clock::time_point t);

}  // namespace faultline::ops
