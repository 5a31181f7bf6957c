#include "harness/backends/postgres_endpoint.h"

namespace faultline::backends {

stack::Endpoint postgres_endpoint(const stack::Service& service, const std::string& host, int port,
                                  const std::string& socket_dir) {
  stack::Endpoint e;
  e.host = host;
  e.port = port;
  e.unix_socket = socket_dir;
  const std::string user = service.setting("user", "postgres");
  const std::string database = service.setting("database", "postgres");
  e.url = "postgresql://" + user + "@" + host + ":" + std::to_string(port) + "/" + database;
  e.exports["PGHOST"] = host;
  e.exports["PGPORT"] = std::to_string(port);
  e.exports["PGUSER"] = user;
  e.exports["PGDATABASE"] = database;
  e.exports["DATABASE_URL"] = e.url;
  return e;
}

std::string postgres_conninfo(const stack::Endpoint& endpoint) {
  return "host=" + endpoint.host + " port=" + std::to_string(endpoint.port) +
         " user=" + endpoint.exports.at("PGUSER") + " dbname=" + endpoint.exports.at("PGDATABASE");
}

}  // namespace faultline::backends
