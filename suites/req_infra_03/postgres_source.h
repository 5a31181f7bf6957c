// PostgresSource: a CacheSource over one table of a real PostgreSQL (libpqxx), for IT-INFRA-03.
//
//   CREATE TABLE cache_rows (k text PRIMARY KEY, v text NOT NULL)
//
// Thread safety: every member may be called from any thread (one connection behind a mutex).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "harness/clients/cache/cache_client.h"

namespace faultline::suites::req_infra_03 {

class PostgresSource final : public clients::CacheSource {
 public:
  // Connects and creates the table if it is missing. Throws pqxx errors.
  explicit PostgresSource(const std::string& connection_string);
  ~PostgresSource() override;

  std::optional<std::string> load(const std::string& key) override;
  void store(const std::string& key, const std::string& value) override;

 private:
  struct Connection;  // libpqxx stays out of this header
  std::mutex mu_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace faultline::suites::req_infra_03
