#include "suites/req_infra_03/postgres_source.h"

#include <pqxx/pqxx>

namespace faultline::suites::req_infra_03 {

struct PostgresSource::Connection {
  explicit Connection(const std::string& s) : c(s) {}
  pqxx::connection c;
};

PostgresSource::PostgresSource(const std::string& connection_string)
    : conn_(std::make_unique<Connection>(connection_string)) {
  pqxx::work tx(conn_->c);
  tx.exec("CREATE TABLE IF NOT EXISTS cache_rows (k text PRIMARY KEY, v text NOT NULL)");
  tx.commit();
}

PostgresSource::~PostgresSource() = default;

std::optional<std::string> PostgresSource::load(const std::string& key) {
  std::lock_guard lock(mu_);
  pqxx::work tx(conn_->c);
  const pqxx::result rows = tx.exec_params("SELECT v FROM cache_rows WHERE k = $1", key);
  tx.commit();
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

void PostgresSource::store(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  pqxx::work tx(conn_->c);
  tx.exec_params(
      "INSERT INTO cache_rows (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = "
      "EXCLUDED.v",
      key, value);
  tx.commit();
}

}  // namespace faultline::suites::req_infra_03
