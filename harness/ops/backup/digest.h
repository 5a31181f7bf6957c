// SHA-256 of files and strings (OpenSSL), and the row digests of a database's tables.
//
// Rows are read with `SELECT * FROM <table>` through libpqxx, rendered as tab-separated text
// (NULL as \N, backslash, tab and newline escaped as COPY does), sorted, and hashed, so two
// databases with the same rows in any physical order have the same digest.
//
// Thread safety: free functions; each call uses only its arguments.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "harness/ops/backup/backup_target.h"

namespace faultline::ops {

std::string sha256_hex(const std::string& data);
// Throws faultline::Error if the file cannot be read.
std::string sha256_file(const std::filesystem::path& file);

TableDigests digest_tables(pqxx::transaction_base& tx, const std::vector<std::string>& tables);
// Every table of schema public, on a real PostgreSQL.
std::vector<std::string> public_tables(pqxx::transaction_base& tx);
TableDigests digest_public_tables(const std::string& conninfo);

}  // namespace faultline::ops
