#include "harness/ops/service_stats.h"

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace faultline::ops {
namespace {

using std::chrono::milliseconds;

MetricFamily gauge(std::string name, std::string help, double value,
                   std::map<std::string, std::string> labels = {}) {
  return {std::move(name), std::move(help), "gauge", {{std::move(labels), value}}};
}
MetricFamily counter(std::string name, std::string help, double value) {
  return {std::move(name), std::move(help), "counter", {{{}, value}}};
}

double number_or(const std::map<std::string, std::string>& m, const std::string& key,
                 double fallback) {
  auto it = m.find(key);
  if (it == m.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

// ---- redis ----

struct RedisConn {
  redisContext* c = nullptr;
  ~RedisConn() {
    if (c) redisFree(c);
  }
};

std::string redis_connect(RedisConn& conn, const ServiceAddress& a, milliseconds timeout) {
  const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  conn.c = redisConnectWithTimeout(a.host.c_str(), a.port, tv);
  if (!conn.c) return "connect: out of memory";
  if (conn.c->err) return std::string("connect: ") + conn.c->errstr;
  redisSetTimeout(conn.c, tv);
  return "";
}

// The reply text of `argv` joined by spaces, or an error naming the command.
std::string redis_text(RedisConn& conn, const char* command, bool& ok) {
  auto* reply = static_cast<redisReply*>(redisCommand(conn.c, command));
  if (!reply) {
    ok = false;
    return std::string(command) + ": " + conn.c->errstr;
  }
  std::string text = reply->str ? std::string(reply->str, reply->len) : "";
  ok = reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_STRING;
  if (reply->type == REDIS_REPLY_ERROR) text = std::string(command) + ": " + text;
  freeReplyObject(reply);
  return text;
}

ServiceReading read_redis(const ServiceAddress& a, milliseconds timeout) {
  RedisConn conn;
  if (auto why = redis_connect(conn, a, timeout); !why.empty()) return {false, why, {}};
  bool ok = false;
  const std::string pong = redis_text(conn, "PING", ok);
  if (!ok || pong != "PONG") return {false, ok ? "PING: " + pong : pong, {}};
  const std::string info_text = redis_text(conn, "INFO", ok);
  if (!ok) return {false, info_text, {}};
  const auto info = parse_redis_info(info_text);
  ServiceReading r{true, "PING: PONG", {}};
  auto& f = r.families;
  f.push_back(gauge("redis_memory_used_bytes", "Memory used by Redis (INFO used_memory)",
                    number_or(info, "used_memory", 0)));
  f.push_back(
      gauge("redis_memory_max_bytes", "maxmemory (0: no limit)", number_or(info, "maxmemory", 0)));
  f.push_back(counter("redis_commands_processed_total", "Commands processed",
                      number_or(info, "total_commands_processed", 0)));
  f.push_back(counter("redis_connections_received_total", "Connections accepted",
                      number_or(info, "total_connections_received", 0)));
  f.push_back(counter("redis_keyspace_hits_total", "Successful key lookups",
                      number_or(info, "keyspace_hits", 0)));
  f.push_back(counter("redis_keyspace_misses_total", "Failed key lookups",
                      number_or(info, "keyspace_misses", 0)));
  f.push_back(counter("redis_keys_evicted_total", "Keys evicted by the maxmemory policy",
                      number_or(info, "evicted_keys", 0)));
  f.push_back(
      counter("redis_keys_expired_total", "Keys expired", number_or(info, "expired_keys", 0)));
  f.push_back(gauge("redis_server_uptime_seconds", "Seconds since the server started",
                    number_or(info, "uptime_in_seconds", 0)));
  const auto version = info.find("redis_version");
  f.push_back(gauge("redis_server_build_info", "Server version", 1,
                    {{"version", version == info.end() ? "unknown" : version->second}}));
  return r;
}

std::vector<ServerSession> redis_sessions(const ServiceAddress& a, milliseconds timeout) {
  RedisConn conn;
  if (!redis_connect(conn, a, timeout).empty()) return {};
  bool ok = false;
  const std::string text = redis_text(conn, "CLIENT LIST", ok);
  if (!ok) return {};
  std::vector<ServerSession> out;
  for (auto& client : parse_client_list(text)) {
    if (!client["name"].empty()) out.push_back({client["name"], client["cmd"]});
  }
  return out;
}

// ---- postgres ----

struct PgConn {
  PGconn* c = nullptr;
  ~PgConn() {
    if (c) PQfinish(c);
  }
};

std::string pg_connect(PgConn& conn, const ServiceAddress& a, milliseconds timeout) {
  const std::string port = std::to_string(a.port);
  const std::string seconds = std::to_string(std::max<long long>(1, timeout.count() / 1000));
  std::vector<const char*> keys = {"host",           "port", "user", "dbname", "application_name",
                                   "connect_timeout"};
  std::vector<const char*> values = {a.host.c_str(),
                                     port.c_str(),
                                     a.user.empty() ? "postgres" : a.user.c_str(),
                                     a.database.empty() ? "postgres" : a.database.c_str(),
                                     "faultline-exporter",
                                     seconds.c_str()};
  if (!a.password.empty()) {
    keys.push_back("password");
    values.push_back(a.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn.c = PQconnectdbParams(keys.data(), values.data(), 0);
  if (!conn.c) return "connect: out of memory";
  if (PQstatus(conn.c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn.c);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return "connect: " + why;
  }
  return "";
}

struct PgRows {
  std::string error;
  std::vector<std::vector<std::string>> rows;
};

PgRows pg_query(PgConn& conn, const char* sql) {
  PgRows out;
  PGresult* res = PQexec(conn.c, sql);
  const auto st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    out.error = std::string(sql) + ": " + PQresultErrorMessage(res);
    while (!out.error.empty() && out.error.back() == '\n') out.error.pop_back();
  } else {
    for (int i = 0; i < PQntuples(res); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(res); ++j) {
        row.emplace_back(PQgetisnull(res, i, j) ? "" : PQgetvalue(res, i, j));
      }
      out.rows.push_back(std::move(row));
    }
  }
  PQclear(res);
  return out;
}

ServiceReading read_postgres(const ServiceAddress& a, milliseconds timeout) {
  PgConn conn;
  if (auto why = pg_connect(conn, a, timeout); !why.empty()) return {false, why, {}};
  const PgRows one = pg_query(conn, "SELECT 1");
  if (!one.error.empty()) return {false, one.error, {}};
  ServiceReading r{true, "SELECT 1: ok", {}};
  double max_connections = 0;
  if (auto show = pg_query(conn, "SHOW max_connections"); show.error.empty() && !show.rows.empty())
    max_connections = std::stod(show.rows[0][0]);
  const PgRows activity = pg_query(conn, "SELECT state, backend_type FROM pg_stat_activity");
  if (activity.error.empty() && max_connections > 0) {
    std::map<std::string, double> by_state;
    for (const auto& row : activity.rows) {
      if (row[1] == "client backend") by_state[row[0].empty() ? "unknown" : row[0]] += 1;
    }
    MetricFamily used{"postgres_connections_used_ratio",
                      "Client connections by state, as a share of max_connections",
                      "gauge",
                      {}};
    for (const auto& [state, n] : by_state)
      used.samples.push_back({{{"state", state}}, n / max_connections});
    r.families.push_back(std::move(used));
    r.families.push_back(gauge("postgres_settings_max_connections_total",
                               "The server's max_connections", max_connections));
  } else if (!activity.error.empty()) {
    r.detail += "; " + activity.error;
  }
  // The real server's statistics collector; the fake has none (its families are then absent).
  const PgRows stats = pg_query(conn,
                                "SELECT datname, xact_commit, xact_rollback, "
                                "pg_database_size(datname) FROM pg_stat_database "
                                "WHERE datname IS NOT NULL AND datname NOT LIKE 'template%'");
  if (stats.error.empty()) {
    MetricFamily commits{
        "postgres_database_commits_total", "Transactions committed", "counter", {}};
    MetricFamily rollbacks{
        "postgres_database_rollbacks_total", "Transactions rolled back", "counter", {}};
    MetricFamily size{
        "postgres_database_size_bytes", "Disk space used by the database", "gauge", {}};
    for (const auto& row : stats.rows) {
      commits.samples.push_back({{{"datname", row[0]}}, std::stod(row[1])});
      rollbacks.samples.push_back({{{"datname", row[0]}}, std::stod(row[2])});
      size.samples.push_back({{{"datname", row[0]}}, std::stod(row[3])});
    }
    r.families.push_back(std::move(commits));
    r.families.push_back(std::move(rollbacks));
    r.families.push_back(std::move(size));
  }
  return r;
}

std::vector<ServerSession> postgres_sessions(const ServiceAddress& a, milliseconds timeout) {
  PgConn conn;
  if (!pg_connect(conn, a, timeout).empty()) return {};
  const PgRows rows = pg_query(conn, "SELECT application_name, query FROM pg_stat_activity");
  std::vector<ServerSession> out;
  for (const auto& row : rows.rows) {
    if (!row[0].empty() && row[0] != "faultline-exporter") out.push_back({row[0], row[1]});
  }
  return out;
}

// ---- kafka ----

ServiceReading read_kafka(const ServiceAddress& a, milliseconds timeout) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", a.bootstrap.c_str(), err, sizeof err) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return {false, std::string("kafka config: ") + err, {}};
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err), &rd_kafka_destroy);
  if (!rk) return {false, std::string("kafka client: ") + err, {}};
  const rd_kafka_metadata_t* md = nullptr;
  const auto code = rd_kafka_metadata(rk.get(), 1, nullptr, &md, static_cast<int>(timeout.count()));
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {false, std::string("metadata: ") + rd_kafka_err2str(code), {}};
  }
  const double configured =
      1 + static_cast<double>(std::count(a.bootstrap.begin(), a.bootstrap.end(), ','));
  double partitions = 0, under = 0, offline = 0;
  for (int t = 0; t < md->topic_cnt; ++t) {
    const auto& topic = md->topics[t];
    if (std::string_view(topic.topic).starts_with("__")) continue;
    for (int p = 0; p < topic.partition_cnt; ++p) {
      const auto& part = topic.partitions[p];
      partitions += 1;
      if (part.isr_cnt < part.replica_cnt) under += 1;
      if (part.leader < 0) offline += 1;
    }
  }
  ServiceReading r{true, std::to_string(md->broker_cnt) + " brokers in metadata", {}};
  r.families.push_back(gauge("kafka_cluster_brokers_ratio",
                             "Brokers in the cluster metadata, as a share of the bootstrap list",
                             md->broker_cnt / configured));
  r.families.push_back(
      gauge("kafka_cluster_partitions_total", "Partitions of user topics", partitions));
  r.families.push_back(gauge("kafka_partitions_underreplicated_ratio",
                             "Partitions whose in-sync replicas are fewer than their replicas",
                             partitions > 0 ? under / partitions : 0));
  r.families.push_back(gauge("kafka_partitions_offline_ratio", "Partitions without a leader",
                             partitions > 0 ? offline / partitions : 0));
  rd_kafka_metadata_destroy(md);
  return r;
}

// ---- unix sockets (docker) ----

// A connected unix socket, or -1 with `why` set.
int connect_unix(const std::string& path, std::string& why) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    why = "socket path too long: " + path;
    return -1;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    why = "connect " + path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// GET `target` over the unix socket (HTTP/1.0, Connection: close); status and body, or status 0
// with the failure in body. Every read is bounded by `timeout`.
std::pair<int, std::string> http_get_unix(const std::string& path, const std::string& target,
                                          milliseconds timeout) {
  std::string why;
  const int fd = connect_unix(path, why);
  if (fd < 0) return {0, why};
  const std::string req =
      "GET " + target + " HTTP/1.0\r\nHost: docker\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return {0, "send: " + std::string(std::strerror(errno))};
  }
  std::string data;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      ::close(fd);
      return {0,
              "no answer to GET " + target + " within " + std::to_string(timeout.count()) + " ms"};
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head = data.find("\r\n\r\n");
  if (data.size() < 12 || head == std::string::npos) return {0, "malformed reply to GET " + target};
  return {std::atoi(data.substr(9, 3).c_str()), data.substr(head + 4)};
}

ServiceReading read_docker(const ServiceAddress& a, milliseconds timeout) {
  const auto [status, body] = http_get_unix(a.unix_socket, "/_ping", timeout);
  if (status != 200) {
    return {false, status ? "GET /_ping: HTTP " + std::to_string(status) : body, {}};
  }
  ServiceReading r{true, "GET /_ping: " + body, {}};
  const auto [info_status, info_body] = http_get_unix(a.unix_socket, "/info", timeout);
  const auto info = nlohmann::json::parse(info_body, nullptr, false);
  if (info_status == 200 && info.is_object()) {
    MetricFamily containers{"docker_engine_containers_total", "Containers by state", "gauge", {}};
    for (const auto& [field, state] :
         std::map<std::string, std::string>{{"ContainersRunning", "running"},
                                            {"ContainersPaused", "paused"},
                                            {"ContainersStopped", "stopped"}}) {
      if (info.contains(field) && info[field].is_number()) {
        containers.samples.push_back({{{"state", state}}, info[field].get<double>()});
      }
    }
    r.families.push_back(std::move(containers));
  }
  return r;
}

ServiceReading read_unix(const ServiceAddress& a) {
  std::string why;
  const int fd = connect_unix(a.unix_socket, why);
  if (fd < 0) return {false, why, {}};
  ::close(fd);
  return {true, "unix socket connect: accepted", {}};
}

// ---- anything else ----

ServiceReading read_tcp(const ServiceAddress& a, milliseconds timeout) {
  if (a.port <= 0) return {false, "no TCP port to probe", {}};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  if (int rc = ::getaddrinfo(a.host.c_str(), std::to_string(a.port).c_str(), &hints, &addrs);
      rc != 0) {
    return {false, "resolve " + a.host + ": " + ::gai_strerror(rc), {}};
  }
  std::string why = "no address";
  bool ok = false;
  for (addrinfo* ai = addrs; ai && !ok; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
        ok = true;
      } else {
        why = soerr ? std::strerror(soerr) : "no answer";
      }
    } else {
      why = std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(addrs);
  return {ok, ok ? "TCP connect: accepted" : "TCP connect: " + why, {}};
}

}  // namespace

ServiceReading read_service(const ServiceAddress& address, std::chrono::milliseconds timeout) {
  try {
    if (address.kind == "redis") return read_redis(address, timeout);
    if (address.kind == "postgres") return read_postgres(address, timeout);
    if (address.kind == "kafka") return read_kafka(address, timeout);
    if (address.kind == "docker" && !address.unix_socket.empty()) {
      return read_docker(address, timeout);
    }
    if (!address.unix_socket.empty() && address.port <= 0) return read_unix(address);
    return read_tcp(address, timeout);
  } catch (const std::exception& e) {
    return {false, std::string("reading the service failed: ") + e.what(), {}};
  }
}

std::vector<ServerSession> read_sessions(const ServiceAddress& address,
                                         std::chrono::milliseconds timeout) {
  if (address.kind == "redis") return redis_sessions(address, timeout);
  if (address.kind == "postgres") return postgres_sessions(address, timeout);
  return {};
}

std::map<std::string, std::string> parse_redis_info(std::string_view text) {
  std::map<std::string, std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

std::vector<std::map<std::string, std::string>> parse_client_list(std::string_view text) {
  std::vector<std::map<std::string, std::string>> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::map<std::string, std::string> client;
    std::istringstream fields(line);
    for (std::string field; fields >> field;) {
      const auto eq = field.find('=');
      if (eq != std::string::npos) client[field.substr(0, eq)] = field.substr(eq + 1);
    }
    out.push_back(std::move(client));
  }
  return out;
}

}  // namespace faultline::ops
