// Service readers: what one service of a stack says about itself, asked over its own protocol —
// the part of an exporter (redis_exporter, postgres_exporter, kafka_exporter) that talks to the
// service. Each reader opens one bounded connection, checks the service answers (the health
// verdict, with a detail naming what failed), and turns its statistics into Prometheus families
// named <namespace>_<subsystem>_<name>_<unit>:
//
//   redis     PING + INFO           redis_memory_used_bytes, redis_commands_processed_total,
//                                   redis_keyspace_hits_total, redis_keys_evicted_total, ...
//   postgres  SELECT 1, pg_stat_activity (and pg_stat_database where the server has it)
//                                   postgres_connections_used_ratio{state},
//                                   postgres_database_commits_total{datname}, ...
//   kafka     cluster metadata      kafka_cluster_brokers_ratio (brokers seen / bootstrap list),
//                                   kafka_partitions_underreplicated_ratio, ..._offline_ratio
//   docker    GET /_ping, GET /info over its unix socket
//                                   docker_engine_containers_total{state}
//   other     a TCP connect (or a unix-socket connect)   (no statistics)
//
// They also read who is connected (pg_stat_activity's application_name and query, redis's CLIENT
// LIST name and cmd): the server-side record the ServiceExporter logs with a request's
// correlation id.
//
// Thread safety: the functions are thread-safe (each opens its own connection).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "harness/ops/exposition.h"

namespace faultline::ops {

struct ServiceReading {
  bool ok = false;
  std::string detail;                  // what the service answered, or what failed
  std::vector<MetricFamily> families;  // empty when the service did not answer
};

// One client session as the server sees it.
struct ServerSession {
  std::string name;       // postgres application_name / redis CLIENT SETNAME
  std::string statement;  // the session's last statement / command
};

struct ServiceAddress {
  std::string kind;  // redis | postgres | kafka | anything else (TCP only)
  std::string host;
  int port = 0;
  std::string unix_socket;  // when set, reached there instead of host:port (docker)
  std::string bootstrap;    // kafka: host:port,host:port...
  std::string user;         // postgres
  std::string database;     // postgres
  std::string password;     // postgres (from the environment; never logged)
};

ServiceReading read_service(const ServiceAddress& address, std::chrono::milliseconds timeout);
// Sessions that carry a name (postgres, redis); empty for other kinds or when unreachable.
std::vector<ServerSession> read_sessions(const ServiceAddress& address,
                                         std::chrono::milliseconds timeout);

// INFO text -> field -> value (sections and blank lines skipped). Exposed for tests.
std::map<std::string, std::string> parse_redis_info(std::string_view text);
// CLIENT LIST text -> one map of field -> value per client. Exposed for tests.
std::vector<std::map<std::string, std::string>> parse_client_list(std::string_view text);

}  // namespace faultline::ops
